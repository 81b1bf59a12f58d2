import { and, asc, eq } from 'drizzle-orm';
import type { Conclusion, ConclusionKind } from '../../shared/protocol/tasks.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { agendaItems, conclusions } from '../db/tables.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { registerSearchKind, removeIndexed, replaceIndexed } from '../search/search.service.js';
import { requireRecorder } from './tasks.access.js';

/* The conclusions of a meeting's agenda items: recorded by its secretary or chair, searchable. */

// Search: conclusions are found by whoever may see their meeting (the search service already limits
// candidates to those meetings).
registerSearchKind('conclusion', (_store, _user, refIds) => new Set(refIds));

async function itemOf(store: Store, meetingId: number, itemId: number): Promise<{ id: number; title: string }> {
  const [item] = await store.q
    .select({ id: agendaItems.id, title: agendaItems.title })
    .from(agendaItems)
    .where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)))
    .limit(1);
  if (!item) throw notFound('Agenda item');
  return item;
}

type ConclusionRow = typeof conclusions.$inferSelect;
const conclusionView = (r: ConclusionRow): Conclusion => ({ id: r.id, meetingId: r.meetingId, agendaItemId: r.agendaItemId, text: r.text, kind: r.kind, updatedAt: r.updatedAt });

/** Search entry of a conclusion (inside the `store.tx` that changes it). */
function indexConclusion(store: Store, r: ConclusionRow, itemTitle: string): Promise<void> {
  return replaceIndexed(store, 'conclusion', r.id, [{ meetingId: r.meetingId, page: null, title: `Kết luận: ${itemTitle}`, body: r.text }]);
}

/**
 * Records (or replaces) the first conclusion of an agenda item (`kind` kept unless given).
 * Secretary or chair.
 * @throws not_found / forbidden
 */
export async function setConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind?: ConclusionKind): Promise<Conclusion> {
  await requireRecorder(ctx.store, user, meetingId);
  const item = await itemOf(ctx.store, meetingId, itemId);
  const now = new Date().toISOString();
  const row = await ctx.store.tx(async (q) => {
    // The item's first conclusion is replaced; an item without one gets one.
    const [first] = await q.select({ id: conclusions.id }).from(conclusions).where(eq(conclusions.agendaItemId, itemId)).orderBy(asc(conclusions.id)).limit(1);
    const [r] = first
      ? await q.update(conclusions).set({ text, ...(kind ? { kind } : {}), updatedBy: user.id, updatedAt: now }).where(eq(conclusions.id, first.id)).returning()
      : await q.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind: kind ?? 'decision', updatedBy: user.id, updatedAt: now }).returning();
    await indexConclusion(ctx.store, r, item.title);
    await audit(q, { actorId: user.id, action: 'conclusion.set', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/**
 * Adds a conclusion to an agenda item (an item may have several). Secretary or chair.
 * @throws not_found / forbidden
 */
export async function addConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind: ConclusionKind): Promise<Conclusion> {
  await requireRecorder(ctx.store, user, meetingId);
  const item = await itemOf(ctx.store, meetingId, itemId);
  const now = new Date().toISOString();
  const row = await ctx.store.tx(async (q) => {
    const [r] = await q.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind, updatedBy: user.id, updatedAt: now }).returning();
    await indexConclusion(ctx.store, r, item.title);
    await audit(q, { actorId: user.id, action: 'conclusion.add', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id, kind } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/** The conclusion row, if the caller may record conclusions in its meeting (else 404 / 403). */
async function editableConclusion(store: Store, user: AuthUser, id: number): Promise<ConclusionRow> {
  const [c] = await store.q.select().from(conclusions).where(eq(conclusions.id, id)).limit(1);
  if (!c) throw notFound('Conclusion');
  await requireRecorder(store, user, c.meetingId);
  return c;
}

/**
 * Changes a conclusion's text and/or kind. Secretary or chair.
 * @throws not_found / forbidden
 */
export async function updateConclusion(ctx: AppContext, user: AuthUser, id: number, patch: { text?: string; kind?: ConclusionKind }): Promise<Conclusion> {
  const c = await editableConclusion(ctx.store, user, id);
  const itemTitle = (await itemOf(ctx.store, c.meetingId, c.agendaItemId)).title;
  const now = new Date().toISOString();
  const row = await ctx.store.tx(async (q) => {
    const [r] = await q
      .update(conclusions)
      .set({ ...(patch.text !== undefined ? { text: patch.text } : {}), ...(patch.kind ? { kind: patch.kind } : {}), updatedBy: user.id, updatedAt: now })
      .where(eq(conclusions.id, id))
      .returning();
    await indexConclusion(ctx.store, r, itemTitle);
    await audit(q, { actorId: user.id, action: 'conclusion.update', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId: c.meetingId });
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
export async function deleteConclusion(ctx: AppContext, user: AuthUser, id: number): Promise<void> {
  const c = await editableConclusion(ctx.store, user, id);
  await ctx.store.tx(async (q) => {
    await q.delete(conclusions).where(eq(conclusions.id, id));
    await removeIndexed(ctx.store, 'conclusion', [id]);
    await audit(q, { actorId: user.id, action: 'conclusion.delete', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId: c.meetingId });
  });
  ctx.bus.emit('meeting:changed', { meetingId: c.meetingId });
}

/** Conclusions of a meeting in the order they were recorded, for whoever may see the meeting. */
export async function listConclusions(store: Store, user: AuthUser, meetingId: number): Promise<Conclusion[]> {
  await meetingAccess(store, user, meetingId);
  return (await store.q.select().from(conclusions).where(eq(conclusions.meetingId, meetingId)).orderBy(asc(conclusions.id))).map(conclusionView);
}
