import { and, eq, max, sql } from 'drizzle-orm';
import type { CreateAgendaItemBody, MoveAgendaItemBody, UpdateAgendaItemBody } from '../../shared/protocol/agenda.js';
import { LIMITS } from '../../shared/limits.js';
import { FOLLOW_UP_ITEM_TITLE } from '../../shared/protocol/tasks.js';
import { depthOf, isSelfOrDescendant, orderAgenda, subtreeHeight } from '../../shared/rules/agenda.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Q, Store } from '../db/store.js';
import { agendaItems, meetingParticipants, meetings, users } from '../db/tables.js';
import { AppError, badRequest, conflict, invalidState, notFound } from '../http/errors.js';
import { requireManage, meetingAccess } from '../meetings/meetings.access.js';
import { bumpAgendaVersion, claimAgendaVersion, participantIds } from '../meetings/meetings.service.js';

type ItemRow = typeof agendaItems.$inferSelect;

function rows(q: Q, meetingId: number): Promise<ItemRow[]> {
  return q.select().from(agendaItems).where(eq(agendaItems.meetingId, meetingId));
}

/** The agenda in display order with numbering and presenter names. */
export async function loadAgenda(store: Store, meetingId: number) {
  // One transaction (joined when the caller has one open): the version and the items of one moment.
  return store.tx(async (q) => {
    const [m] = await q.select({ v: meetings.agendaVersion }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
    if (!m) throw notFound('Meeting');
    const names = await q
      .select({ id: users.id, name: users.fullName })
      .from(users)
      .innerJoin(agendaItems, eq(agendaItems.presenterId, users.id))
      .where(eq(agendaItems.meetingId, meetingId));
    return agendaView(meetingId, m.v, await rows(q, meetingId), names);
  });
}

function agendaView(meetingId: number, version: number, items: ItemRow[], presenters: { id: number; name: string }[]) {
  const names = new Map(presenters.map((u) => [u.id, u.name]));
  return {
    meetingId,
    version,
    items: orderAgenda(items).map((i) => ({
      id: i.id,
      parentId: i.parentId,
      position: i.position,
      title: i.title,
      description: i.description,
      presenterId: i.presenterId,
      presenterName: i.presenterId ? (names.get(i.presenterId) ?? null) : null,
      durationMinutes: i.durationMinutes,
      status: i.status,
      number: i.number,
    })),
  };
}

/** Rewrites sibling positions 0..n-1 in the given order. */
async function renumber(q: Q, siblings: ItemRow[]) {
  for (const [i, s] of siblings.entries()) {
    if (s.position !== i) await q.update(agendaItems).set({ position: i }).where(eq(agendaItems.id, s.id));
  }
}

const siblingsOf = (all: ItemRow[], parentId: number | null, exceptId?: number) =>
  all.filter((i) => i.parentId === parentId && i.id !== exceptId).sort((a, b) => a.position - b.position || a.id - b.id);

async function checkPresenter(q: Q, meetingId: number, presenterId: number | null | undefined) {
  if (presenterId == null) return;
  const [p] = await q
    .select({ u: meetingParticipants.userId })
    .from(meetingParticipants)
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, presenterId)))
    .limit(1);
  if (!p) throw badRequest('The presenter must be a participant of the meeting');
}

/**
 * Runs one agenda mutation: authorizes (meeting secretary), checks the client's agenda version
 * (409 version_conflict when stale: no lost update between two secretaries), applies `fn`, bumps the
 * version, audits and — for a published meeting — notifies participants, all in one transaction.
 */
async function mutate(ctx: AppContext, user: AuthUser, meetingId: number, version: number, action: string, fn: (q: Q, all: ItemRow[]) => Promise<Record<string, unknown>>) {
  const { store } = ctx;
  const a = await requireManage(store, user, meetingId);
  if (a.meeting.status === 'closed') throw invalidState('A closed meeting cannot be changed');
  let newVersion = 0;
  const agenda = await store.tx(async (q) => {
    if (!(await claimAgendaVersion(q, meetingId, version))) throw conflict('version_conflict', 'The agenda was changed by someone else; reload and try again');
    newVersion = version + 1;
    const details = await fn(q, await rows(q, meetingId));
    await audit(q, { actorId: user.id, action, targetType: 'meeting', targetId: meetingId, details });
    if (a.meeting.status !== 'draft') {
      const others = (await participantIds(store, meetingId)).filter((id) => id !== user.id);
      await ctx.notifier.notify(q, others, 'agenda_updated', meetingId, { title: a.meeting.title });
    }
    await ctx.bus.share(q, 'agenda:changed', { meetingId, version: newVersion });
    return loadAgenda(store, meetingId);
  });
  ctx.notifier.flush();
  ctx.bus.emit('agenda:changed', { meetingId, version: newVersion });
  return agenda;
}

export async function getAgenda(ctx: AppContext, user: AuthUser, meetingId: number) {
  await meetingAccess(ctx.store, user, meetingId);
  return loadAgenda(ctx.store, meetingId);
}

export function createItem(ctx: AppContext, user: AuthUser, meetingId: number, body: CreateAgendaItemBody) {
  return mutate(ctx, user, meetingId, body.version, 'agenda.create', async (q, all) => {
    if (all.length >= LIMITS.agendaItemsPerMeeting) throw badRequest('Too many agenda items');
    if (body.parentId != null) {
      if (!all.some((i) => i.id === body.parentId)) throw notFound('Parent agenda item');
      if (depthOf(all, body.parentId) + 1 >= LIMITS.agendaDepth) throw new AppError('invalid_move', `Agenda items nest at most ${LIMITS.agendaDepth} levels`, 422);
    }
    await checkPresenter(q, meetingId, body.presenterId);
    const sibs = siblingsOf(all, body.parentId);
    const at = Math.min(body.position ?? sibs.length, sibs.length);
    const [row] = await q
      .insert(agendaItems)
      .values({
        meetingId,
        parentId: body.parentId,
        position: at,
        title: body.title,
        description: body.description,
        presenterId: body.presenterId ?? null,
        durationMinutes: body.durationMinutes ?? null,
      })
      .returning();
    sibs.splice(at, 0, row);
    await renumber(q, sibs);
    return { itemId: row.id, title: body.title };
  });
}

export function updateItem(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, body: UpdateAgendaItemBody) {
  return mutate(ctx, user, meetingId, body.version, 'agenda.update', async (q, all) => {
    if (!all.some((i) => i.id === itemId)) throw notFound('Agenda item');
    await checkPresenter(q, meetingId, body.presenterId);
    const { version: _v, ...fields } = body;
    await q.update(agendaItems).set(fields).where(eq(agendaItems.id, itemId));
    return { itemId, fields: Object.keys(fields) };
  });
}

/** Moves an item (with its sub-items) under `parentId` at `position`. Never under itself or its descendants. */
export function moveItem(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, body: MoveAgendaItemBody) {
  return mutate(ctx, user, meetingId, body.version, 'agenda.move', async (q, all) => {
    const item = all.find((i) => i.id === itemId);
    if (!item) throw notFound('Agenda item');
    if (body.parentId != null) {
      if (!all.some((i) => i.id === body.parentId)) throw notFound('Parent agenda item');
      if (isSelfOrDescendant(all, itemId, body.parentId)) {
        throw new AppError('invalid_move', 'An agenda item cannot be moved under itself or one of its sub-items', 422);
      }
      if (depthOf(all, body.parentId) + subtreeHeight(all, itemId) >= LIMITS.agendaDepth) {
        throw new AppError('invalid_move', `Agenda items nest at most ${LIMITS.agendaDepth} levels`, 422);
      }
    }
    const oldSibs = siblingsOf(all, item.parentId, itemId);
    const newSibs = item.parentId === body.parentId ? oldSibs : siblingsOf(all, body.parentId, itemId);
    const at = Math.min(body.position, newSibs.length);
    await q.update(agendaItems).set({ parentId: body.parentId }).where(eq(agendaItems.id, itemId));
    newSibs.splice(at, 0, { ...item, parentId: body.parentId, position: -1 });
    await renumber(q, newSibs);
    if (item.parentId !== body.parentId) await renumber(q, oldSibs);
    return { itemId, from: { parentId: item.parentId, position: item.position }, to: { parentId: body.parentId, position: at } };
  });
}

/** Deletes an item and all its sub-items. */
export function deleteItem(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, version: number) {
  return mutate(ctx, user, meetingId, version, 'agenda.delete', async (q, all) => {
    const item = all.find((i) => i.id === itemId);
    if (!item) throw notFound('Agenda item');
    const doomed = all.filter((i) => isSelfOrDescendant(all, itemId, i.id)).map((i) => i.id);
    for (const id of doomed) await q.delete(agendaItems).where(eq(agendaItems.id, id));
    await renumber(q, siblingsOf(all, item.parentId, itemId));
    return { itemId, title: item.title, removed: doomed.length };
  });
}

// ---------------------------------------------------------------------------------------------
// Writes other domains call: agenda items are this domain's table (server/db/owners.ts). Each runs on
// the store, inside the caller's transaction.

export type AgendaStatus = 'pending' | 'current' | 'done' | 'deferred';

/** What the agenda's writers need of the app: the store. */
export interface AgendaDb {
  store: Store;
}

/** Inserts one item as given (no renumbering), in the caller's transaction `q`; returns the row. */
export async function insertAgendaItem(q: Q, values: typeof agendaItems.$inferInsert): Promise<ItemRow> {
  const [row] = await q.insert(agendaItems).values(values).returning();
  return row;
}

/** Makes `itemId` the current item (the previous one becomes `previousBecomes`) and bumps the agenda version. */
export async function setCurrentItem(a: AgendaDb, meetingId: number, itemId: number | null, previousBecomes: 'pending' | 'done'): Promise<void> {
  const q = a.store.q;
  await q
    .update(agendaItems)
    .set({ status: previousBecomes })
    .where(and(eq(agendaItems.meetingId, meetingId), eq(agendaItems.status, 'current')));
  if (itemId != null) await q.update(agendaItems).set({ status: 'current' }).where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)));
  await bumpAgendaVersion(a.store.q, meetingId);
}

/** Sets one item's status and bumps the agenda version. */
export async function setItemStatus(a: AgendaDb, meetingId: number, itemId: number, status: AgendaStatus): Promise<void> {
  await a.store.q.update(agendaItems).set({ status }).where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)));
  await bumpAgendaVersion(a.store.q, meetingId);
}

/**
 * Inserts a top-level item at `at`, moving the top-level items `top` from `at` on one place down
 * (the live meeting's urgent item). Does not bump the version. Returns the new item's id.
 */
export async function insertTopLevelItem(store: Store, meetingId: number, at: number, top: { id: number; position: number }[], item: { title: string; durationMinutes: number | null }): Promise<number> {
  const q = store.q;
  for (const s of top) if (s.position >= at) await q.update(agendaItems).set({ position: s.position + 1 }).where(eq(agendaItems.id, s.id));
  const [row] = await q
    .insert(agendaItems)
    .values({ meetingId, parentId: null, position: at, title: item.title, description: '', durationMinutes: item.durationMinutes })
    .returning({ id: agendaItems.id });
  return row.id;
}

/**
 * Gives the meeting's follow-up item (`FOLLOW_UP_ITEM_TITLE`, kept by server/tasks) this description:
 * created at the end of the top level when missing, updated when it differs, and the agenda version
 * bumped. Returns the new version, or null when the item already read so.
 */
export async function upsertFollowUpItem(a: AgendaDb, meetingId: number, description: string): Promise<number | null> {
  const q = a.store.q;
  const [existing] = await q
    .select()
    .from(agendaItems)
    .where(and(eq(agendaItems.meetingId, meetingId), eq(agendaItems.title, FOLLOW_UP_ITEM_TITLE)))
    .limit(1);
  if (existing?.description === description) return null;
  if (existing) await q.update(agendaItems).set({ description }).where(eq(agendaItems.id, existing.id));
  else {
    const [last] = await q
      .select({ p: max(agendaItems.position) })
      .from(agendaItems)
      .where(and(eq(agendaItems.meetingId, meetingId), sql`${agendaItems.parentId} is null`));
    await q.insert(agendaItems).values({ meetingId, parentId: null, position: (last?.p ?? -1) + 1, title: FOLLOW_UP_ITEM_TITLE, description, durationMinutes: 15 });
  }
  return (await bumpAgendaVersion(a.store.q, meetingId))!;
}
