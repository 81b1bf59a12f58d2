import { and, asc, eq } from 'drizzle-orm';
import type { Conclusion, ConclusionKind } from '../../shared/protocol/tasks.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { type Db, tx } from '../db/client.js';
import { agendaItems, conclusions } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { registerSearchKind, removeEntries, replaceEntries } from '../search/search.service.js';
import { requireRecorder } from './tasks.access.js';

/* The conclusions of a meeting's agenda items: recorded by its secretary or chair, searchable. */

// Search: conclusions are found by whoever may see their meeting (the search service already limits
// candidates to those meetings).
registerSearchKind('conclusion', (_db, _user, refIds) => new Set(refIds));

function itemOf(db: Db, meetingId: number, itemId: number): { id: number; title: string } {
  const item = db
    .select({ id: agendaItems.id, title: agendaItems.title })
    .from(agendaItems)
    .where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)))
    .get();
  if (!item) throw notFound('Agenda item');
  return item;
}

type ConclusionRow = typeof conclusions.$inferSelect;
const conclusionView = (r: ConclusionRow): Conclusion => ({ id: r.id, meetingId: r.meetingId, agendaItemId: r.agendaItemId, text: r.text, kind: r.kind, updatedAt: r.updatedAt });

/** Search entry of a conclusion (inside the transaction that changes it). */
function indexConclusion(d: Db, r: ConclusionRow, itemTitle: string): void {
  replaceEntries(d, 'conclusion', r.id, [{ meetingId: r.meetingId, page: null, title: `Kết luận: ${itemTitle}`, body: r.text }]);
}

/**
 * Records (or replaces) the first conclusion of an agenda item (`kind` kept unless given).
 * Secretary or chair.
 * @throws not_found / forbidden
 */
export function setConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind?: ConclusionKind): Conclusion {
  requireRecorder(ctx.db, user, meetingId);
  const item = itemOf(ctx.db, meetingId, itemId);
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    // The item's first conclusion is replaced; an item without one gets one.
    const first = d.select({ id: conclusions.id }).from(conclusions).where(eq(conclusions.agendaItemId, itemId)).orderBy(asc(conclusions.id)).get();
    const r = first
      ? d.update(conclusions).set({ text, ...(kind ? { kind } : {}), updatedBy: user.id, updatedAt: now }).where(eq(conclusions.id, first.id)).returning().get()!
      : d.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind: kind ?? 'decision', updatedBy: user.id, updatedAt: now }).returning().get();
    indexConclusion(d, r, item.title);
    audit(d, { actorId: user.id, action: 'conclusion.set', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/**
 * Adds a conclusion to an agenda item (an item may have several). Secretary or chair.
 * @throws not_found / forbidden
 */
export function addConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind: ConclusionKind): Conclusion {
  requireRecorder(ctx.db, user, meetingId);
  const item = itemOf(ctx.db, meetingId, itemId);
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    const r = d.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind, updatedBy: user.id, updatedAt: now }).returning().get();
    indexConclusion(d, r, item.title);
    audit(d, { actorId: user.id, action: 'conclusion.add', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id, kind } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/** The conclusion row, if the caller may record conclusions in its meeting (else 404 / 403). */
function editableConclusion(db: Db, user: AuthUser, id: number): ConclusionRow {
  const c = db.select().from(conclusions).where(eq(conclusions.id, id)).get();
  if (!c) throw notFound('Conclusion');
  requireRecorder(db, user, c.meetingId);
  return c;
}

/**
 * Changes a conclusion's text and/or kind. Secretary or chair.
 * @throws not_found / forbidden
 */
export function updateConclusion(ctx: AppContext, user: AuthUser, id: number, patch: { text?: string; kind?: ConclusionKind }): Conclusion {
  const c = editableConclusion(ctx.db, user, id);
  const itemTitle = itemOf(ctx.db, c.meetingId, c.agendaItemId).title;
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    const r = d
      .update(conclusions)
      .set({ ...(patch.text !== undefined ? { text: patch.text } : {}), ...(patch.kind ? { kind: patch.kind } : {}), updatedBy: user.id, updatedAt: now })
      .where(eq(conclusions.id, id))
      .returning()
      .get()!;
    indexConclusion(d, r, itemTitle);
    audit(d, { actorId: user.id, action: 'conclusion.update', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId: c.meetingId });
  return conclusionView(row);
}

/**
 * Deletes a conclusion. Its tasks stay (they keep their agenda item; `conclusionId` becomes null).
 * Secretary or chair.
 * @throws not_found / forbidden
 */
export function deleteConclusion(ctx: AppContext, user: AuthUser, id: number): void {
  const c = editableConclusion(ctx.db, user, id);
  tx(ctx.db, (d) => {
    d.delete(conclusions).where(eq(conclusions.id, id)).run();
    removeEntries(d, 'conclusion', [id]);
    audit(d, { actorId: user.id, action: 'conclusion.delete', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
  });
  ctx.bus.emit('meeting:changed', { meetingId: c.meetingId });
}

/** Conclusions of a meeting in the order they were recorded, for whoever may see the meeting. */
export function listConclusions(db: Db, user: AuthUser, meetingId: number): Conclusion[] {
  meetingAccess(db, user, meetingId);
  return db.select().from(conclusions).where(eq(conclusions.meetingId, meetingId)).orderBy(asc(conclusions.id)).all().map(conclusionView);
}
