import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import { type Db, perDb } from '../db/client.js';
import { documentViewers, documents } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';

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
 * @throws AppError not_found
 */
export function documentAccess(db: Db, user: AuthUser, documentId: number, opts: { consultations?: boolean } = {}): DocumentAccess {
  const document = db.select().from(documents).where(eq(documents.id, documentId)).get();
  if (!document || document.removedAt) throw notFound('Document');
  let meeting: MeetingAccess | null = null;
  try {
    meeting = meetingAccess(db, user, document.meetingId);
  } catch {
    meeting = null;
  }
  if (!meeting || !meetingRuleAllows(db, meeting, document, user.id)) {
    if (opts.consultations && consultationGrant(db, user.id, document)) {
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

/** The meeting's rule for a caller who sees the meeting: managers everything; participants published `all` documents or those naming them. */
function meetingRuleAllows(db: Db, meeting: MeetingAccess, document: DocumentRow, userId: number): boolean {
  if (meeting.canManage) return true;
  if (!document.published || !meeting.role) return false;
  return document.access === 'all' || isNamedViewer(db, document.id, userId);
}

/**
 * Read access through a written consultation: the user is a recipient of a consultation whose
 * `documentIds` lists the document and is still a member of that consultation's committee, the
 * document is published and its meeting is not (back to) a draft, and the document's own access
 * lets them read it: `all`, or `named` with the user named. A confidential document never opens
 * this way (even if it was attached while every recipient could see it, or made confidential
 * later): only the meeting's own rule shows it. Checked at every read, so a later restriction, a
 * removal from the committee or an unpublished meeting takes the document away at once.
 */
export function consultationGrant(db: Db, userId: number, document: Pick<DocumentRow, 'id' | 'published' | 'removedAt' | 'access'>): boolean {
  if (!document.published || document.removedAt || document.access === 'confidential') return false;
  return grantStatements(db).grant.get(document.id, userId) !== undefined;
}

/** The consultation rule in SQL: `r` recipients, `c` consultations, `d` documents (see `consultationGrant`). */
const GRANT_RULE = `EXISTS (SELECT 1 FROM committee_members cm WHERE cm.committee_id = c.committee_id AND cm.user_id = r.user_id)
  AND d.published = 1 AND d.removed_at IS NULL
  AND (d.access = 'all' OR (d.access = 'named' AND EXISTS (SELECT 1 FROM document_viewers v WHERE v.document_id = d.id AND v.user_id = r.user_id)))
  AND EXISTS (SELECT 1 FROM meetings m WHERE m.id = d.meeting_id AND m.status <> 'draft')`;
const grantStatements = perDb(({ $client: c }) => ({
  grant: c.prepare<[documentId: number, userId: number]>(
    `SELECT 1 FROM consultation_recipients r
       JOIN consultations c ON c.id = r.consultation_id
       JOIN documents d ON d.id = ?
      WHERE r.user_id = ? AND EXISTS (SELECT 1 FROM json_each(c.document_ids) j WHERE j.value = d.id)
        AND ${GRANT_RULE}
      LIMIT 1`,
  ),
  /** Every document granted to a user (the rule above, for many at once). */
  all: c
    .prepare<[number], number>(
      `SELECT DISTINCT d.id FROM consultation_recipients r
         JOIN consultations c ON c.id = r.consultation_id
         JOIN json_each(c.document_ids) j
         JOIN documents d ON d.id = j.value
        WHERE r.user_id = ? AND ${GRANT_RULE}
        ORDER BY d.id`,
    )
    .pluck(),
}));

/**
 * Every document the user may read only through written consultations (the rule of
 * `consultationGrant`, for many at once): search uses it to reach documents outside the user's meetings.
 */
export function consultationDocumentIds(db: Db, userId: number): number[] {
  return grantStatements(db).all.all(userId);
}

function isNamedViewer(db: Db, documentId: number, userId: number): boolean {
  return !!db
    .select({ u: documentViewers.userId })
    .from(documentViewers)
    .where(and(eq(documentViewers.documentId, documentId), eq(documentViewers.userId, userId)))
    .get();
}

/**
 * The ids among `documentIds` the user may see — `documentAccess` for many at once (search, pack).
 * `{ consultations: true }` (search) also counts documents read through a written consultation.
 */
export function visibleDocumentIds(db: Db, user: AuthUser, documentIds: number[], opts: { consultations?: boolean } = {}): Set<number> {
  const out = new Set<number>();
  if (!documentIds.length) return out;
  const rows = db.select().from(documents).where(and(inArray(documents.id, documentIds), isNull(documents.removedAt))).all();
  const meetingCache = new Map<number, MeetingAccess | null>();
  const named = new Set(
    db
      .select({ d: documentViewers.documentId })
      .from(documentViewers)
      .where(and(eq(documentViewers.userId, user.id), inArray(documentViewers.documentId, documentIds)))
      .all()
      .map((r) => r.d),
  );
  for (const d of rows) {
    if (!meetingCache.has(d.meetingId)) {
      try {
        meetingCache.set(d.meetingId, meetingAccess(db, user, d.meetingId));
      } catch {
        meetingCache.set(d.meetingId, null);
      }
    }
    const m = meetingCache.get(d.meetingId);
    if (!m) continue;
    if (m.canManage || (d.published && m.role && (d.access === 'all' || named.has(d.id)))) out.add(d.id);
  }
  // Documents the user reads as a recipient of a written consultation (never confidential ones).
  if (opts.consultations && out.size < rows.length) {
    const granted = new Set(consultationDocumentIds(db, user.id));
    for (const d of rows) if (granted.has(d.id)) out.add(d.id);
  }
  return out;
}
