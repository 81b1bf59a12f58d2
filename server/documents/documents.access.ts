import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';
import { documentViewers, documents } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';

export type DocumentRow = typeof documents.$inferSelect;

/** What the caller may do with one document. */
export interface DocumentAccess {
  document: DocumentRow;
  meeting: MeetingAccess;
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
 * @throws AppError not_found
 */
export function documentAccess(db: Db, user: AuthUser, documentId: number): DocumentAccess {
  const document = db.select().from(documents).where(eq(documents.id, documentId)).get();
  if (!document || document.removedAt) throw notFound('Document');
  let meeting: MeetingAccess;
  try {
    meeting = meetingAccess(db, user, document.meetingId);
  } catch {
    throw notFound('Document');
  }
  if (!meeting.canManage) {
    if (!document.published || !meeting.role) throw notFound('Document');
    if (document.access !== 'all' && !isNamedViewer(db, documentId, user.id)) throw notFound('Document');
  }
  return {
    document,
    meeting,
    canView: true,
    canDownload: meeting.canManage || document.access !== 'confidential',
    canManage: meeting.canManage,
    confidential: document.access === 'confidential',
  };
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
 */
export function visibleDocumentIds(db: Db, user: AuthUser, documentIds: number[]): Set<number> {
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
  return out;
}
