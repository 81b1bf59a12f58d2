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
import { type Db, tx } from '../db/client.js';
import { committeeMembers, committees, rooms, users } from '../db/schema/index.js';
import { badRequest, notFound } from '../http/errors.js';
import { addMembers, insertCommittee, insertRoom } from './committees.service.js';

type MemberInput = { userId: number; defaultRole: 'chair' | 'secretary' | 'member' | 'guest'; votingRight?: boolean };

function committeeView(db: Db, c: typeof committees.$inferSelect) {
  const members = db
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
    .orderBy(asc(users.fullName))
    .all();
  return { id: c.id, name: c.name, description: c.description, active: c.active, members };
}

function writeMembers(db: Db, committeeId: number, members: MemberInput[]) {
  const ids = members.map((m) => m.userId);
  if (new Set(ids).size !== ids.length) throw badRequest('A member is listed twice');
  if (ids.length && db.select({ id: users.id }).from(users).where(inArray(users.id, ids)).all().length !== ids.length) {
    throw badRequest('Unknown user in members');
  }
  db.delete(committeeMembers).where(eq(committeeMembers.committeeId, committeeId)).run();
  if (members.length) {
    addMembers(
      db,
      committeeId,
      members.map((m) => ({ userId: m.userId, defaultRole: m.defaultRole, votingRight: m.defaultRole === 'guest' ? false : (m.votingRight ?? m.defaultRole !== 'secretary') })),
    );
  }
}

/** Committees with their members and default roles, and meeting rooms. Writes are admin-only. */
export function committeeRoutes({ api, db }: AppContext): void {
  api.route(
    { method: 'get', path: '/api/committees', summary: 'Committees (admins: all; others: those they belong to)', tags: ['committees'], access: 'user', response: CommitteeList },
    ({ user }) => {
      const mine = db.select({ id: committeeMembers.committeeId }).from(committeeMembers).where(eq(committeeMembers.userId, user.id));
      const list = db
        .select()
        .from(committees)
        .where(user.systemRole === 'admin' ? undefined : and(inArray(committees.id, mine)))
        .orderBy(asc(committees.name))
        .all();
      return { committees: list.map((c) => committeeView(db, c)) };
    },
  );
  api.route(
    { method: 'post', path: '/api/committees', summary: 'Create a committee', tags: ['committees'], access: 'admin', body: CreateCommitteeBody, response: Committee, status: 201 },
    ({ user, body }) =>
      tx(db, (d) => {
        const c = insertCommittee(d, { name: body.name, description: body.description });
        writeMembers(d, c.id, body.members);
        audit(d, { actorId: user.id, action: 'committee.create', targetType: 'committee', targetId: c.id, details: { name: c.name } });
        return committeeView(d, c);
      }),
  );
  api.route(
    { method: 'patch', path: '/api/committees/:id', summary: 'Edit, deactivate or change members of a committee', tags: ['committees'], access: 'admin', params: IdParams, body: UpdateCommitteeBody, response: Committee },
    ({ user, params, body }) =>
      tx(db, (d) => {
        const { members, ...fields } = body;
        const c = Object.keys(fields).length
          ? d.update(committees).set(fields).where(eq(committees.id, params.id)).returning().get()
          : d.select().from(committees).where(eq(committees.id, params.id)).get();
        if (!c) throw notFound('Committee');
        if (members) writeMembers(d, c.id, members);
        audit(d, { actorId: user.id, action: 'committee.update', targetType: 'committee', targetId: c.id, details: { fields: Object.keys(body) } });
        return committeeView(d, c);
      }),
  );

  const roomView = ({ createdAt: _c, ...r }: typeof rooms.$inferSelect) => r;
  api.route({ method: 'get', path: '/api/rooms', summary: 'Meeting rooms', tags: ['rooms'], access: 'user', response: RoomList }, () => ({
    rooms: db.select().from(rooms).orderBy(asc(rooms.name)).all().map(roomView),
  }));
  api.route(
    { method: 'post', path: '/api/rooms', summary: 'Create a room', tags: ['rooms'], access: 'admin', body: CreateRoomBody, response: Room, status: 201 },
    ({ user, body }) =>
      tx(db, (d) => {
        const r = insertRoom(d, { name: body.name, location: body.location, capacity: body.capacity ?? null });
        audit(d, { actorId: user.id, action: 'room.create', targetType: 'room', targetId: r.id });
        return roomView(r);
      }),
  );
  api.route(
    { method: 'patch', path: '/api/rooms/:id', summary: 'Edit or deactivate a room', tags: ['rooms'], access: 'admin', params: IdParams, body: UpdateRoomBody, response: Room },
    ({ user, params, body }) =>
      tx(db, (d) => {
        const r = Object.keys(body).length
          ? d.update(rooms).set(body).where(eq(rooms.id, params.id)).returning().get()
          : d.select().from(rooms).where(eq(rooms.id, params.id)).get();
        if (!r) throw notFound('Room');
        audit(d, { actorId: user.id, action: 'room.update', targetType: 'room', targetId: r.id, details: { fields: Object.keys(body) } });
        return roomView(r);
      }),
  );
}
