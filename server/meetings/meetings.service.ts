import { and, asc, desc, eq, inArray, or, sql } from 'drizzle-orm';
import type { MeetingRole } from '../../shared/protocol/committees.js';
import type { CreateMeetingBody, ParticipantInput, UpdateMeetingBody } from '../../shared/protocol/meetings.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Q, Store } from '../db/store.js';
import { committeeMembers, committees, meetingParticipants, meetings, rooms, users } from '../db/tables.js';
import { badRequest, conflict, forbidden, invalidState, notFound } from '../http/errors.js';
import { type MeetingAccess, isCommitteeSecretary, meetingAccess, requireManage } from './meetings.access.js';

const defaultCanVote = (role: MeetingRole) => role === 'chair' || role === 'member';

/** Participants' user ids of a meeting. */
export async function participantIds(store: Store, meetingId: number): Promise<number[]> {
  const rows = await store.q.select({ id: meetingParticipants.userId }).from(meetingParticipants).where(eq(meetingParticipants.meetingId, meetingId));
  return rows.map((r) => r.id);
}

async function summaryOf(store: Store, m: typeof meetings.$inferSelect, a: Pick<MeetingAccess, 'role' | 'canManage'>) {
  const [committee] = await store.q.select({ name: committees.name }).from(committees).where(eq(committees.id, m.committeeId)).limit(1);
  const [room] = m.roomId ? await store.q.select({ name: rooms.name }).from(rooms).where(eq(rooms.id, m.roomId)).limit(1) : [];
  return {
    id: m.id,
    committeeId: m.committeeId,
    committeeName: committee?.name ?? '',
    title: m.title,
    startsAt: m.startsAt,
    endsAt: m.endsAt,
    roomId: m.roomId,
    roomName: room?.name ?? null,
    mode: m.mode,
    status: m.status,
    myRole: a.role,
    canManage: a.canManage,
  };
}

/** The full meeting as its viewer may see it. */
export async function meetingView(store: Store, a: MeetingAccess) {
  const m = a.meeting;
  const participants = await store.q
    .select({
      userId: meetingParticipants.userId,
      fullName: users.fullName,
      title: users.title,
      unit: users.unit,
      role: meetingParticipants.role,
      canVote: meetingParticipants.canVote,
      invitedAt: meetingParticipants.invitedAt,
    })
    .from(meetingParticipants)
    .innerJoin(users, eq(users.id, meetingParticipants.userId))
    .where(eq(meetingParticipants.meetingId, m.id))
    .orderBy(sql`case ${meetingParticipants.role} when 'chair' then 0 when 'secretary' then 1 when 'member' then 2 else 3 end`, asc(users.fullName));
  return {
    ...(await summaryOf(store, m, a)),
    description: m.description,
    quorumRule: m.quorumRule,
    version: m.version,
    publishedAt: m.publishedAt,
    participants,
  };
}

/** Meetings the user may see, by scope. Drafts only for those who manage them. */
export async function listMeetings(store: Store, user: AuthUser, scope: 'upcoming' | 'live' | 'past' | 'all', committeeId?: number) {
  const q = store.q;
  const now = new Date().toISOString();
  const mine = q.select({ id: meetingParticipants.meetingId }).from(meetingParticipants).where(eq(meetingParticipants.userId, user.id));
  const secretaryCommittees = q
    .select({ id: committeeMembers.committeeId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.userId, user.id), eq(committeeMembers.defaultRole, 'secretary')));
  const visible =
    user.systemRole === 'admin'
      ? undefined
      : or(inArray(meetings.committeeId, secretaryCommittees), inArray(meetings.id, mine));
  const scopeCond =
    scope === 'live'
      ? inArray(meetings.status, ['live', 'paused'])
      : scope === 'upcoming'
        ? and(inArray(meetings.status, ['draft', 'published']), sql`${meetings.endsAt} >= ${now}`)
        : scope === 'past'
          ? or(eq(meetings.status, 'closed'), and(inArray(meetings.status, ['draft', 'published']), sql`${meetings.endsAt} < ${now}`))
          : undefined;
  const rows = await q
    .select()
    .from(meetings)
    .where(and(visible, scopeCond, committeeId ? eq(meetings.committeeId, committeeId) : undefined))
    .orderBy(scope === 'past' ? desc(meetings.startsAt) : asc(meetings.startsAt))
    .limit(500);
  const out = [];
  for (const m of rows) {
    let a: MeetingAccess;
    try {
      a = await meetingAccess(store, user, m.id);
    } catch {
      continue; // not visible (a draft of someone else's meeting)
    }
    out.push(await summaryOf(store, m, a));
  }
  return out;
}

async function validateParticipants(store: Store, list: ParticipantInput[]) {
  const ids = list.map((p) => p.userId);
  if (new Set(ids).size !== ids.length) throw badRequest('A participant is listed twice');
  if (ids.length === 0) return;
  const found = await store.q.select({ id: users.id }).from(users).where(and(inArray(users.id, ids), eq(users.active, true)));
  if (found.length !== ids.length) throw badRequest('Unknown or inactive participant');
  if (list.filter((p) => p.role === 'chair').length > 1) throw badRequest('A meeting has at most one chair');
  if (list.some((p) => p.role === 'guest' && p.canVote)) throw badRequest('Guests never vote');
}

/** Replaces the meeting's participants (inside the caller's transaction); returns the user ids that are new. */
async function writeParticipants(q: Q, meetingId: number, list: ParticipantInput[], invitedAt: string | null) {
  const before = new Map((await q.select().from(meetingParticipants).where(eq(meetingParticipants.meetingId, meetingId))).map((p) => [p.userId, p]));
  await q.delete(meetingParticipants).where(eq(meetingParticipants.meetingId, meetingId));
  if (list.length === 0) return [];
  await q.insert(meetingParticipants).values(
    list.map((p) => ({
      meetingId,
      userId: p.userId,
      role: p.role,
      canVote: p.role === 'guest' ? false : (p.canVote ?? defaultCanVote(p.role)),
      invitedAt: before.get(p.userId)?.invitedAt ?? invitedAt,
    })),
  );
  return list.filter((p) => !before.has(p.userId)).map((p) => p.userId);
}

export async function createMeeting(ctx: AppContext, user: AuthUser, body: CreateMeetingBody) {
  const { store } = ctx;
  const [committee] = await store.q.select().from(committees).where(eq(committees.id, body.committeeId)).limit(1);
  if (!committee) throw notFound('Committee');
  if (user.systemRole !== 'admin' && !(await isCommitteeSecretary(store, user.id, committee.id))) {
    throw forbidden("Only the committee's secretaries may create its meetings");
  }
  if (!committee.active) throw invalidState('The committee is inactive');
  if (body.roomId && (await store.q.select({ id: rooms.id }).from(rooms).where(and(eq(rooms.id, body.roomId), eq(rooms.active, true))).limit(1)).length === 0) {
    throw badRequest('Unknown or inactive room');
  }
  const participants: ParticipantInput[] =
    body.participants ??
    (
      await store.q
        .select({ userId: committeeMembers.userId, role: committeeMembers.defaultRole, canVote: committeeMembers.votingRight })
        .from(committeeMembers)
        .innerJoin(users, eq(users.id, committeeMembers.userId))
        .where(and(eq(committeeMembers.committeeId, committee.id), eq(users.active, true)))
    ).map((m) => ({ ...m, canVote: m.role === 'guest' || m.role === 'secretary' ? false : m.canVote }));
  await validateParticipants(store, participants);
  const id = await store.tx(async (q) => {
    const [{ id: meetingId }] = await q
      .insert(meetings)
      .values({
        committeeId: committee.id,
        title: body.title,
        description: body.description,
        startsAt: new Date(body.startsAt).toISOString(),
        endsAt: new Date(body.endsAt).toISOString(),
        roomId: body.roomId ?? null,
        mode: body.mode,
        quorumRule: body.quorumRule,
        createdBy: user.id,
      })
      .returning({ id: meetings.id });
    await writeParticipants(q, meetingId, participants, null);
    await audit(q, { actorId: user.id, action: 'meeting.create', targetType: 'meeting', targetId: meetingId, details: { title: body.title } });
    return meetingId;
  });
  return meetingView(store, await meetingAccess(store, user, id));
}

export async function updateMeeting(ctx: AppContext, user: AuthUser, meetingId: number, body: UpdateMeetingBody) {
  const { store } = ctx;
  const a = await requireManage(store, user, meetingId);
  const m = a.meeting;
  if (m.status === 'closed') throw invalidState('A closed meeting cannot be changed');
  const startsAt = body.startsAt ? new Date(body.startsAt).toISOString() : m.startsAt;
  const endsAt = body.endsAt ? new Date(body.endsAt).toISOString() : m.endsAt;
  if (Date.parse(endsAt) <= Date.parse(startsAt)) throw badRequest('endsAt must be after startsAt');
  if (body.roomId && (await store.q.select({ id: rooms.id }).from(rooms).where(eq(rooms.id, body.roomId)).limit(1)).length === 0) throw badRequest('Unknown room');
  if (body.participants) await validateParticipants(store, body.participants);
  const published = m.status !== 'draft';
  const before = await participantIds(store, meetingId);
  const removedUserIds = await store.tx(async (q) => {
    const changed = await q
      .update(meetings)
      .set({
        title: body.title ?? m.title,
        description: body.description ?? m.description,
        startsAt,
        endsAt,
        roomId: body.roomId === undefined ? m.roomId : body.roomId,
        mode: body.mode ?? m.mode,
        quorumRule: body.quorumRule ?? m.quorumRule,
        version: m.version + 1,
      })
      .where(and(eq(meetings.id, meetingId), eq(meetings.version, body.version)))
      .returning({ id: meetings.id });
    if (changed.length === 0) throw conflict('version_conflict', 'Someone else changed this meeting; reload and try again');
    const now = new Date().toISOString();
    const added = body.participants ? await writeParticipants(q, meetingId, body.participants, published ? now : null) : [];
    await audit(q, { actorId: user.id, action: 'meeting.update', targetType: 'meeting', targetId: meetingId, details: { fields: Object.keys(body).filter((k) => k !== 'version') } });
    if (published) {
      const everyone = (await participantIds(store, meetingId)).filter((id) => id !== user.id);
      const newcomers = new Set(added);
      await ctx.notifier.notify(q, everyone.filter((id) => newcomers.has(id)), 'meeting_published', meetingId, { title: body.title ?? m.title });
      await ctx.notifier.notify(q, everyone.filter((id) => !newcomers.has(id)), 'meeting_updated', meetingId, { title: body.title ?? m.title });
    }
    const after = new Set(await participantIds(store, meetingId));
    const removed = before.filter((id) => !after.has(id));
    await ctx.bus.share(q, 'meeting:changed', { meetingId, removedUserIds: removed });
    return removed;
  });
  ctx.notifier.flush();
  ctx.bus.emit('meeting:changed', { meetingId, removedUserIds });
  return meetingView(store, await meetingAccess(store, user, meetingId));
}

/** Publishes a draft: invitations recorded and every participant notified in the app. */
export async function publishMeeting(ctx: AppContext, user: AuthUser, meetingId: number) {
  const { store } = ctx;
  const a = await requireManage(store, user, meetingId);
  if (a.meeting.status !== 'draft') throw invalidState('The meeting is already published');
  await store.tx(async (q) => {
    const now = new Date().toISOString();
    await q.update(meetings).set({ status: 'published', publishedAt: now, version: a.meeting.version + 1 }).where(eq(meetings.id, meetingId));
    await q.update(meetingParticipants).set({ invitedAt: now }).where(eq(meetingParticipants.meetingId, meetingId));
    const invited = await participantIds(store, meetingId);
    await ctx.notifier.notify(q, invited.filter((id) => id !== user.id), 'meeting_published', meetingId, { title: a.meeting.title, startsAt: a.meeting.startsAt });
    await audit(q, { actorId: user.id, action: 'meeting.publish', targetType: 'meeting', targetId: meetingId, details: { invited } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId });
  });
  ctx.notifier.flush();
  ctx.bus.emit('meeting:changed', { meetingId });
  return meetingView(store, await meetingAccess(store, user, meetingId));
}

// ---------------------------------------------------------------------------------------------
// Writes other domains call: the meetings and their participants are this domain's tables
// (server/db/owners.ts). Each takes the builder of the caller's transaction (`q`) or `store.q`.

/** Inserts a meeting row; returns its id. */
export async function insertMeeting(q: Q, values: typeof meetings.$inferInsert): Promise<number> {
  const [row] = await q.insert(meetings).values(values).returning({ id: meetings.id });
  return row.id;
}

/** Adds participant rows (the demo seed). */
export async function addParticipants(q: Q, rows: (typeof meetingParticipants.$inferInsert)[]): Promise<void> {
  await q.insert(meetingParticipants).values(rows);
}

/** The live meeting's status (opened, paused, resumed, closed: server/live). */
export async function setMeetingStatus(q: Q, meetingId: number, status: 'live' | 'paused' | 'closed'): Promise<void> {
  await q.update(meetings).set({ status }).where(eq(meetings.id, meetingId));
}

/** Bumps the meeting's agenda version (every agenda change the tablets are pushed); returns the new one. */
export async function bumpAgendaVersion(q: Q, meetingId: number): Promise<number | undefined> {
  const [row] = await q
    .update(meetings)
    .set({ agendaVersion: sql`${meetings.agendaVersion} + 1` })
    .where(eq(meetings.id, meetingId))
    .returning({ version: meetings.agendaVersion });
  return row?.version;
}

/**
 * Moves the agenda version from `version` to `version + 1`; false when it is no longer `version`
 * (someone else changed the agenda: the optimistic check of the agenda editor).
 */
export async function claimAgendaVersion(q: Q, meetingId: number, version: number): Promise<boolean> {
  const rows = await q
    .update(meetings)
    .set({ agendaVersion: version + 1 })
    .where(and(eq(meetings.id, meetingId), eq(meetings.agendaVersion, version)))
    .returning({ id: meetings.id });
  return rows.length > 0;
}
