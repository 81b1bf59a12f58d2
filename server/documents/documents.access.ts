import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import type { Store } from '../db/store.js';
import { documentViewers, documents } from '../db/tables.js';
import { notFound } from '../http/errors.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';
import { allGrantedTo, grantedTo } from './documents.repo.js';

export type DocumentRow = typeof documents.$inferSelect;

/** What the caller may do with one document. */
export interface DocumentAccess {
  document: DocumentRow;
  /** The caller's access to the document's meeting; null when they read it only through a consultation. */
  meeting: MeetingAccess | null;
  /** Why the caller may see it: the meeting's rules, or being a recipient of a consultation that lists it. */
  via: 'meeting' | 'consultation';
  /** Always true when returned (otherwise 404 was thrown); present for readability. */
  canView: true;
  /** May download a (watermarked) copy: not for confidential documents unless a manager. */
  canDownload: boolean;
  /** May rename, replace, reorder, remove and set access: the meeting's managers. */
  canManage: boolean;
  /** The document is confidential: view only (no download) for everyone but managers. */
  confidential: boolean;
}

/**
 * The single rule for "may this user see this document". The caller must see the meeting
 * (`meetingAccess`); managers see every document that is not removed; everyone else only
 * published documents whose access is `all` (any participant) or that name them
 * (`named`, `confidential`). Confidential documents are view-only (no download) for non-managers.
 * Anyone else gets 404, never 403, so they cannot learn the document exists.
 * Used by every document route, the search hook, and other domains (annotations' Yjs access).
 *
 * With `{ consultations: true }` (the read-only routes: details, file, download, page text, find) a
 * recipient of a written consultation that lists the document may also read it — the only way
 * outside the meeting's rules — provided it is published, not removed and not confidential
 * (`consultationGrant`). Meeting-scoped uses (shared annotation layers, the presenter) leave it off:
 * a consultation recipient is not a participant of the meeting.
 *
 * Reads on the store (issue #17): inside a transaction, what it wrote.
 * @throws AppError not_found
 */
export async function documentAccess(store: Store, user: AuthUser, documentId: number, opts: { consultations?: boolean } = {}): Promise<DocumentAccess> {
  const [document] = await store.q.select().from(documents).where(eq(documents.id, documentId)).limit(1);
  if (!document || document.removedAt) throw notFound('Document');
  const meeting = await meetingAccess(store, user, document.meetingId).catch(() => null);
  const named = meeting && asksNamed(meeting, document) ? await isNamedViewer(store, document.id, user.id) : false;
  const granted = !!opts.consultations && !(meeting && meetingRuleAllows(meeting, document, named)) ? await consultationGrant(store, user.id, document) : false;
  return decide(document, meeting, named, granted);
}

/** The rule, from what was read: the document, the caller's meeting access (null: none), whether they are named, the consultation grant (read only when the meeting's rule refuses). */
function decide(document: DocumentRow, meeting: MeetingAccess | null, named: boolean, granted: boolean): DocumentAccess {
  if (!meeting || !meetingRuleAllows(meeting, document, named)) {
    if (granted) {
      return { document, meeting: null, via: 'consultation', canView: true, canDownload: true, canManage: false, confidential: false };
    }
    throw notFound('Document');
  }
  return {
    document,
    meeting,
    via: 'meeting',
    canView: true,
    canDownload: meeting.canManage || document.access !== 'confidential',
    canManage: meeting.canManage,
    confidential: document.access === 'confidential',
  };
}

/** Whether the meeting rule depends on the caller being a named viewer (only then is it read). */
const asksNamed = (meeting: MeetingAccess, document: DocumentRow) => !meeting.canManage && document.published && !!meeting.role && document.access !== 'all';

/** The meeting's rule for a caller who sees the meeting: managers everything; participants published `all` documents or those naming them. */
function meetingRuleAllows(meeting: MeetingAccess, document: DocumentRow, named: boolean): boolean {
  if (meeting.canManage) return true;
  if (!document.published || !meeting.role) return false;
  return document.access === 'all' || named;
}

/**
 * Read access through a written consultation: the user is a recipient of a consultation whose
 * `documentIds` lists the document and is still a member of that consultation's committee, the
 * document is published and its meeting is not (back to) a draft, and the document's own access
 * lets them read it: `all`, or `named` with the user named. A confidential document never opens
 * this way (even if it was attached while every recipient could see it, or made confidential
 * later): only the meeting's own rule shows it. Checked at every read, so a later restriction, a
 * removal from the committee or an unpublished meeting takes the document away at once.
 * The SQL is in documents.repo.ts (SQLite's json_each, PostgreSQL's jsonb).
 */
export async function consultationGrant(store: Store, userId: number, document: GrantDocument): Promise<boolean> {
  return grantShape(document) && (await grantedTo(store, document.id, userId));
}

type GrantDocument = Pick<DocumentRow, 'id' | 'published' | 'removedAt' | 'access'>;
const grantShape = (d: GrantDocument) => d.published && !d.removedAt && d.access !== 'confidential';

/**
 * Every document the user may read only through written consultations (the rule of
 * `consultationGrant`, for many at once): search uses it to reach documents outside the user's meetings.
 */
export async function loadConsultationDocumentIds(store: Store, userId: number): Promise<number[]> {
  return allGrantedTo(store, userId);
}

const namedWhere = (documentId: number, userId: number) => and(eq(documentViewers.documentId, documentId), eq(documentViewers.userId, userId));

async function isNamedViewer(store: Store, documentId: number, userId: number): Promise<boolean> {
  return (await store.q.select({ u: documentViewers.userId }).from(documentViewers).where(namedWhere(documentId, userId)).limit(1)).length > 0;
}

/**
 * The ids among `documentIds` the user may see — `documentAccess` for many at once (search, pack).
 * `{ consultations: true }` (search) also counts documents read through a written consultation.
 */
export async function loadVisibleDocumentIds(store: Store, user: AuthUser, documentIds: number[], opts: { consultations?: boolean } = {}): Promise<Set<number>> {
  if (!documentIds.length) return new Set();
  const rows = await store.q.select().from(documents).where(and(inArray(documents.id, documentIds), isNull(documents.removedAt)));
  const named = await store.q.select({ d: documentViewers.documentId }).from(documentViewers).where(viewerOf(user.id, documentIds));
  const meetings = new Map<number, MeetingAccess | null>();
  for (const id of new Set(rows.map((d) => d.meetingId))) meetings.set(id, await meetingAccess(store, user, id).catch(() => null));
  const visible = visibleAmong(rows, named, meetings);
  if (opts.consultations && visible.size < rows.length) addGranted(visible, rows, await loadConsultationDocumentIds(store, user.id));
  return visible;
}

const viewerOf = (userId: number, documentIds: number[]) => and(eq(documentViewers.userId, userId), inArray(documentViewers.documentId, documentIds));

/** The meeting rule of `documentAccess` over rows read at once (`named`: the rows naming the caller; `meetings`: their access by meeting). */
function visibleAmong(rows: DocumentRow[], named: { d: number }[], meetings: Map<number, MeetingAccess | null>): Set<number> {
  const out = new Set<number>();
  const namedIds = new Set(named.map((r) => r.d));
  for (const d of rows) {
    const m = meetings.get(d.meetingId);
    if (m && meetingRuleAllows(m, d, namedIds.has(d.id))) out.add(d.id);
  }
  return out;
}

/** Adds the documents the user reads as a recipient of a written consultation (never confidential ones: `granted` holds none). */
function addGranted(out: Set<number>, rows: DocumentRow[], granted: number[]): void {
  const ids = new Set(granted);
  for (const d of rows) if (ids.has(d.id)) out.add(d.id);
}
