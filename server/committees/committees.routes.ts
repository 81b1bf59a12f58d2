import { and, asc, eq, inArray } from 'drizzle-orm';
import { IdParams } from '../../shared/protocol/common.js';
import {
  Committee,
  CommitteeList,
  CreateCommitteeBody,
  CreateRoomBody,
  Room,
  RoomList,
  UpdateCommitteeBody,
  UpdateRoomBody,
} from '../../shared/protocol/committees.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { committeeMembers, committees, rooms, users } from '../db/tables.js';
import { badRequest, notFound } from '../http/errors.js';
import { addMembers, insertCommittee, insertRoom } from './committees.service.js';

type MemberInput = { userId: number; defaultRole: 'chair' | 'secretary' | 'member' | 'guest'; votingRight?: boolean };

async function committeeView(store: Store, c: typeof committees.$inferSelect) {
  const members = await store.q
    .select({
      userId: committeeMembers.userId,
      fullName: users.fullName,
      unit: users.unit,
      defaultRole: committeeMembers.defaultRole,
      votingRight: committeeMembers.votingRight,
    })
    .from(committeeMembers)
    .innerJoin(users, eq(users.id, committeeMembers.userId))
    .where(eq(committeeMembers.committeeId, c.id))
    .orderBy(asc(users.fullName));
  return { id: c.id, name: c.name, description: c.description, active: c.active, members };
}

/** Replaces a committee's members; inside the caller's `store.tx`. */
async function writeMembers(store: Store, committeeId: number, members: MemberInput[]) {
  const ids = members.map((m) => m.userId);
  if (new Set(ids).size !== ids.length) throw badRequest('A member is listed twice');
  if (ids.length && (await store.q.select({ id: users.id }).from(users).where(inArray(users.id, ids))).length !== ids.length) {
    throw badRequest('Unknown user in members');
  }
  await store.q.delete(committeeMembers).where(eq(committeeMembers.committeeId, committeeId));
  if (members.length) {
    await addMembers(
      store.q,
      committeeId,
      members.map((m) => ({ userId: m.userId, defaultRole: m.defaultRole, votingRight: m.defaultRole === 'guest' ? false : (m.votingRight ?? m.defaultRole !== 'secretary') })),
    );
  }
}

/** Committees with their members and default roles, and meeting rooms. Writes are admin-only. */
export function committeeRoutes({ api, store }: AppContext): void {
  api.route(
    { method: 'get', path: '/api/committees', summary: 'Committees (admins: all; others: those they belong to)', tags: ['committees'], access: 'user', response: CommitteeList },
    async ({ user }) => {
      const mine = store.q.select({ id: committeeMembers.committeeId }).from(committeeMembers).where(eq(committeeMembers.userId, user.id));
      // One transaction: the list and every committee's members of one moment.
      return store.tx(async (q) => {
        const list = await q
          .select()
          .from(committees)
          .where(user.systemRole === 'admin' ? undefined : and(inArray(committees.id, mine)))
          .orderBy(asc(committees.name));
        const views = [];
        for (const c of list) views.push(await committeeView(store, c));
        return { committees: views };
      });
    },
  );
  api.route(
    { method: 'post', path: '/api/committees', summary: 'Create a committee', tags: ['committees'], access: 'admin', body: CreateCommitteeBody, response: Committee, status: 201 },
    ({ user, body }) =>
      store.tx(async (q) => {
        const c = await insertCommittee(q, { name: body.name, description: body.description });
        await writeMembers(store, c.id, body.members);
        await audit(q, { actorId: user.id, action: 'committee.create', targetType: 'committee', targetId: c.id, details: { name: c.name } });
        return committeeView(store, c);
      }),
  );
  api.route(
    { method: 'patch', path: '/api/committees/:id', summary: 'Edit, deactivate or change members of a committee', tags: ['committees'], access: 'admin', params: IdParams, body: UpdateCommitteeBody, response: Committee },
    ({ user, params, body }) =>
      store.tx(async (q) => {
        const { members, ...fields } = body;
        const [c] = Object.keys(fields).length
          ? await q.update(committees).set(fields).where(eq(committees.id, params.id)).returning()
          : await q.select().from(committees).where(eq(committees.id, params.id)).limit(1);
        if (!c) throw notFound('Committee');
        if (members) await writeMembers(store, c.id, members);
        await audit(q, { actorId: user.id, action: 'committee.update', targetType: 'committee', targetId: c.id, details: { fields: Object.keys(body) } });
        return committeeView(store, c);
      }),
  );

  const roomView = ({ createdAt: _c, ...r }: typeof rooms.$inferSelect) => r;
  api.route({ method: 'get', path: '/api/rooms', summary: 'Meeting rooms', tags: ['rooms'], access: 'user', response: RoomList }, async () => ({
    rooms: (await store.q.select().from(rooms).orderBy(asc(rooms.name))).map(roomView),
  }));
  api.route(
    { method: 'post', path: '/api/rooms', summary: 'Create a room', tags: ['rooms'], access: 'admin', body: CreateRoomBody, response: Room, status: 201 },
    ({ user, body }) =>
      store.tx(async (q) => {
        const r = await insertRoom(q, { name: body.name, location: body.location, capacity: body.capacity ?? null });
        await audit(q, { actorId: user.id, action: 'room.create', targetType: 'room', targetId: r.id });
        return roomView(r);
      }),
  );
  api.route(
    { method: 'patch', path: '/api/rooms/:id', summary: 'Edit or deactivate a room', tags: ['rooms'], access: 'admin', params: IdParams, body: UpdateRoomBody, response: Room },
    ({ user, params, body }) =>
      store.tx(async (q) => {
        const [r] = Object.keys(body).length
          ? await q.update(rooms).set(body).where(eq(rooms.id, params.id)).returning()
          : await q.select().from(rooms).where(eq(rooms.id, params.id)).limit(1);
        if (!r) throw notFound('Room');
        await audit(q, { actorId: user.id, action: 'room.update', targetType: 'room', targetId: r.id, details: { fields: Object.keys(body) } });
        return roomView(r);
      }),
  );
}
