import crypto from 'node:crypto';
import type { HttpClient, TestServer } from './server.js';

/**
 * Test data factories: each test makes its own users, committee and meeting through the real REST API
 * (as the seeded admin and the new committee's secretary), so tests never share state and pass in any
 * order. Names carry a random suffix; passwords are long random strings (any password policy accepts them).
 *
 *   const m = await buildMeeting(server, { members: 3, agendaItems: 2, publish: true });
 *   const alice = await m.as('member', 0);   // HttpClient signed in as the first member
 */
export interface BuiltUser {
  id: number;
  username: string;
  password: string;
  fullName: string;
}

export interface BuiltMeeting {
  meetingId: number;
  committeeId: number;
  /** Agenda item ids in order. */
  itemIds: number[];
  chair: BuiltUser;
  secretary: BuiltUser;
  members: BuiltUser[];
  guests: BuiltUser[];
  /** A signed-in client for a role (index among members/guests). */
  as(role: 'chair' | 'secretary' | 'member' | 'guest', index?: number): Promise<HttpClient>;
  login(user: BuiltUser): Promise<HttpClient>;
}

const suffix = () => crypto.randomBytes(4).toString('hex');

/** Creates an active user (systemRole `user` unless given) through the admin API. */
export async function buildUser(server: TestServer, opts: { name?: string; systemRole?: 'user' | 'admin'; unit?: string; admin?: HttpClient } = {}): Promise<BuiltUser> {
  const admin = opts.admin ?? (await server.login('admin'));
  const username = `u${suffix()}`;
  const password = `T3st-${crypto.randomBytes(12).toString('base64url')}`;
  const fullName = opts.name ?? `Người thử ${username}`;
  const r = await admin.post('/api/users', { username, password, fullName, unit: opts.unit ?? 'Văn phòng thử nghiệm', systemRole: opts.systemRole ?? 'user' });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create user: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, username, password, fullName };
}

/**
 * A committee with a chair, a secretary, `members` voting members and `guests` guests, and one meeting
 * of it with `agendaItems` items, starting `startsInHours` from now (default 24), published unless
 * `publish: false`.
 */
export async function buildMeeting(
  server: TestServer,
  opts: { members?: number; guests?: number; agendaItems?: number; publish?: boolean; startsInHours?: number; title?: string } = {},
): Promise<BuiltMeeting> {
  const admin = await server.login('admin');
  const mk = (name: string) => buildUser(server, { name, admin });
  const chair = await mk(`Chủ tọa ${suffix()}`);
  const secretary = await mk(`Thư ký ${suffix()}`);
  const members: BuiltUser[] = [];
  for (let i = 0; i < (opts.members ?? 3); i++) members.push(await mk(`Thành viên ${i + 1} ${suffix()}`));
  const guests: BuiltUser[] = [];
  for (let i = 0; i < (opts.guests ?? 0); i++) guests.push(await mk(`Khách mời ${i + 1} ${suffix()}`));
  const c = await admin.post('/api/committees', {
    name: `Ban chỉ đạo thử ${suffix()}`,
    members: [
      { userId: chair.id, defaultRole: 'chair' },
      { userId: secretary.id, defaultRole: 'secretary' },
      ...members.map((m) => ({ userId: m.id, defaultRole: 'member' })),
      ...guests.map((g) => ({ userId: g.id, defaultRole: 'guest' })),
    ],
  });
  if (c.status !== 201 && c.status !== 200) throw new Error(`create committee: ${c.status} ${JSON.stringify(c.body)}`);
  const committeeId: number = c.body.id;
  const login = async (u: BuiltUser) => {
    const client = await server.login(u.username, u.password);
    return client;
  };
  const sec = await login(secretary);
  const { meetingId, itemIds } = await createMeeting(sec, committeeId, {
    title: opts.title,
    startsInHours: opts.startsInHours ?? 24,
    agendaItems: opts.agendaItems ?? 2,
    publish: opts.publish !== false,
  });
  return {
    meetingId,
    committeeId,
    itemIds,
    chair,
    secretary,
    members,
    guests,
    login,
    as: (role, index = 0) => login(role === 'chair' ? chair : role === 'secretary' ? secretary : role === 'member' ? members[index] : guests[index]),
  };
}

/**
 * `buildMeeting` on any server that signs users in: also the child-process server of the crash tests
 * (test/helpers/child-server.ts, started with `ECABINET_SEED: 'admin'`).
 */
export function buildMeetingOn(server: Pick<TestServer, 'login'>, opts: Parameters<typeof buildMeeting>[1] = {}): Promise<BuiltMeeting> {
  return buildMeeting(server as TestServer, opts);
}

/** The address `giveEmails` gives a user. */
export const emailOf = (u: Pick<BuiltUser, 'username'>) => `${u.username}@test.ecabinet.local`;

/** Gives each user an e-mail address (`emailOf`), as the demo seed did for its people; built users have none. */
export async function giveEmails(admin: HttpClient, users: BuiltUser[]): Promise<void> {
  for (const u of users) {
    const r = await admin.patch(`/api/users/${u.id}`, { email: emailOf(u) });
    if (r.status !== 200) throw new Error(`set e-mail of ${u.username}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/**
 * One more meeting of a built meeting's committee, created by its secretary (`secretary`, or a new sign-in), with
 * `participants` (default: the committee's members with their roles, as the REST default), with `agendaItems` items (default 0), starting
 * `startsInHours` from now (default 48); a draft unless `publish: true`.
 */
export async function buildCommitteeMeeting(
  m: BuiltMeeting,
  opts: { title?: string; agendaItems?: number; publish?: boolean; startsInHours?: number; participants?: ParticipantOf[]; secretary?: HttpClient } = {},
): Promise<{ meetingId: number; itemIds: number[] }> {
  const sec = opts.secretary ?? (await m.as('secretary'));
  return createMeeting(sec, m.committeeId, {
    title: opts.title,
    startsInHours: opts.startsInHours ?? 48,
    agendaItems: opts.agendaItems ?? 0,
    publish: opts.publish === true,
    participants: opts.participants,
  });
}

/** A meeting of a committee made by its signed-in secretary: its agenda items in order, published when asked. */
async function createMeeting(
  sec: HttpClient,
  committeeId: number,
  opts: { title?: string; startsInHours: number; agendaItems: number; publish: boolean; participants?: ParticipantOf[] },
): Promise<{ meetingId: number; itemIds: number[] }> {
  const start = Date.now() + opts.startsInHours * 3_600_000;
  const r = await sec.post('/api/meetings', {
    committeeId,
    title: opts.title ?? `Phiên họp thử nghiệm ${suffix()}`,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 2 * 3_600_000).toISOString(),
    ...(opts.participants ? { participants: opts.participants.map(participantInput) } : {}),
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create meeting: ${r.status} ${JSON.stringify(r.body)}`);
  const meetingId: number = r.body.id;
  const itemIds: number[] = [];
  for (let i = 0; i < opts.agendaItems; i++) {
    const agenda = await sec.get(`/api/meetings/${meetingId}/agenda`);
    const it = await sec.post(`/api/meetings/${meetingId}/agenda/items`, { version: agenda.body.version, title: `Nội dung ${i + 1}` });
    if (it.status !== 201 && it.status !== 200) throw new Error(`create agenda item: ${it.status} ${JSON.stringify(it.body)}`);
    // The answer is the whole agenda; the new item has the highest id.
    itemIds.push(Math.max(...(it.body.items as { id: number }[]).map((x) => x.id)));
  }
  if (opts.publish) {
    const p = await sec.post(`/api/meetings/${meetingId}/publish`);
    if (p.status !== 200) throw new Error(`publish: ${p.status} ${JSON.stringify(p.body)}`);
  }
  return { meetingId, itemIds };
}

/**
 * A room station for a built meeting: a new room (admin API) set as the meeting's room, and a new account
 * for the room's PC, invited as a member without a vote (as the demo seed's `room1`). No REST route makes an
 * account a room station (only the demo seed does), so that one row is written into the test server's
 * database directly.
 */
export async function buildRoomStation(server: TestServer, m: BuiltMeeting): Promise<BuiltUser & { roomId: number }> {
  const admin = await server.login('admin');
  const room = await admin.post('/api/rooms', { name: `Phòng họp thử ${suffix()}`, location: 'Tầng 3, nhà thử nghiệm', capacity: 40 });
  if (room.status !== 201 && room.status !== 200) throw new Error(`create room: ${room.status} ${JSON.stringify(room.body)}`);
  const roomId: number = room.body.id;
  const station = await buildUser(server, { name: `Phòng họp thử — thiết bị phòng ${suffix()}`, admin });
  const { roomStations } = await import('../../server/db/tables.js');
  await server.store.q.insert(roomStations).values({ userId: station.id, roomId });
  const sec = await m.as('secretary');
  const meeting = (await sec.get(`/api/meetings/${m.meetingId}`)).body;
  const participants = [
    ...(meeting.participants as { userId: number; role: string; canVote: boolean }[]).map(({ userId, role, canVote }) => ({ userId, role, canVote })),
    { userId: station.id, role: 'member', canVote: false },
  ];
  const r = await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.version, roomId, participants });
  if (r.status !== 200) throw new Error(`meeting room: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...station, roomId };
}

/** A built meeting's people under the names the demo seed gave them: chair, secretary, member1…N, guest1…N (`guest` = guest1). */
export function usersByName(m: BuiltMeeting): Record<string, BuiltUser> {
  const named: Record<string, BuiltUser> = { chair: m.chair, secretary: m.secretary };
  m.members.forEach((u, i) => (named[`member${i + 1}`] = u));
  m.guests.forEach((u, i) => (named[`guest${i + 1}`] = u));
  if (m.guests[0]) named.guest = m.guests[0];
  return named;
}

/** A built user as a meeting participant (REST `participants` entry). */
export interface ParticipantOf {
  user: BuiltUser;
  role: 'chair' | 'secretary' | 'member' | 'guest';
  /** Defaults by role: chair and member vote, secretary and guest do not. */
  canVote?: boolean;
}
const participantInput = (p: ParticipantOf) => ({ userId: p.user.id, role: p.role, ...(p.canVote === undefined ? {} : { canVote: p.canVote }) });

/** Its secretary (`secretary`, or a new sign-in) edits a built meeting over REST: removes `removeParticipants`, adds `addParticipants`, sets `roomId`. */
export async function editMeeting(
  m: BuiltMeeting,
  opts: { roomId?: number | null; addParticipants?: ParticipantOf[]; removeParticipants?: BuiltUser[]; secretary?: HttpClient },
): Promise<void> {
  const sec = opts.secretary ?? (await m.as('secretary'));
  const cur = await sec.get(`/api/meetings/${m.meetingId}`);
  if (cur.status !== 200) throw new Error(`read meeting: ${cur.status} ${JSON.stringify(cur.body)}`);
  const gone = new Set((opts.removeParticipants ?? []).map((u) => u.id));
  const participants = [
    ...(cur.body.participants as { userId: number; role: string; canVote: boolean }[]).filter((p) => !gone.has(p.userId)).map(({ userId, role, canVote }) => ({ userId, role, canVote })),
    ...(opts.addParticipants ?? []).map(participantInput),
  ];
  const r = await sec.patch(`/api/meetings/${m.meetingId}`, { version: cur.body.version, participants, ...(opts.roomId === undefined ? {} : { roomId: opts.roomId }) });
  if (r.status !== 200) throw new Error(`edit meeting: ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * The cast `runDemoMeeting` (server/minutes/minutes.demo.ts) plays: users named `secretary`, `chair` and
 * `member1`…`member12` (the first two named and placed as in the demo seed) in a committee of their own, and a
 * published meeting whose agenda opens with "Khai mạc", has `agendaItems` items and ends with the chair's
 * conclusion and its sub-item (as the demo agenda; `itemIds` in that order). Once per server:
 * the usernames are fixed.
 */
export async function buildDemoCast(server: TestServer, opts: { agendaItems?: number } = {}): Promise<BuiltMeeting> {
  const admin = await server.login('admin');
  const mk = async (username: string, fullName: string, unit = 'Văn phòng thử nghiệm'): Promise<BuiltUser> => {
    const password = `T3st-${crypto.randomBytes(12).toString('base64url')}`;
    const r = await admin.post('/api/users', { username, password, fullName, unit, systemRole: 'user' });
    if (r.status !== 201) throw new Error(`create user ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    return { id: r.body.id, username, password, fullName };
  };
  const secretary = await mk('secretary', 'Phan Thị Thu');
  const chair = await mk('chair', 'Trần Sỹ Thanh');
  const members: BuiltUser[] = [];
  // The scripted task is owned by these two units: the directory must know them.
  members.push(await mk('member1', 'Nguyễn Văn An', 'Sở Nội vụ'), await mk('member2', 'Trần Thị Bình', 'Sở Thông tin và Truyền thông'));
  for (let i = 3; i <= 12; i++) members.push(await mk(`member${i}`, `Thành viên ${i}`));
  const c = await admin.post('/api/committees', {
    name: `Ban chỉ đạo thử ${suffix()}`,
    members: [
      { userId: chair.id, defaultRole: 'chair' },
      { userId: secretary.id, defaultRole: 'secretary' },
      ...members.map((m) => ({ userId: m.id, defaultRole: 'member' })),
    ],
  });
  if (c.status !== 201) throw new Error(`create committee: ${c.status} ${JSON.stringify(c.body)}`);
  const login = (u: BuiltUser) => server.login(u.username, u.password);
  const sec = await login(secretary);
  const start = Date.now() + 24 * 3_600_000;
  const m = await sec.post('/api/meetings', { committeeId: c.body.id, title: 'Phiên họp thường kỳ quý IV', startsAt: new Date(start).toISOString(), endsAt: new Date(start + 3 * 3_600_000).toISOString() });
  if (m.status !== 201) throw new Error(`create meeting: ${m.status} ${JSON.stringify(m.body)}`);
  const itemIds: number[] = [];
  const add = async (title: string, parentId: number | null = null) => {
    const agenda = await sec.get(`/api/meetings/${m.body.id}/agenda`);
    const it = await sec.post(`/api/meetings/${m.body.id}/agenda/items`, { version: agenda.body.version, title, parentId });
    if (it.status !== 201) throw new Error(`create agenda item: ${it.status} ${JSON.stringify(it.body)}`);
    itemIds.push(Math.max(...(it.body.items as { id: number }[]).map((x) => x.id)));
    return itemIds.at(-1)!;
  };
  // The demo agenda's shape: an opening, the items, and the chair's conclusion with one sub-item.
  for (const title of ['Khai mạc, giới thiệu đại biểu', ...Array.from({ length: opts.agendaItems ?? 2 }, (_, i) => `Nội dung ${i + 1}`)]) await add(title);
  await add('Giao nhiệm vụ cho các sở, ngành', await add('Kết luận của Chủ tọa'));
  const p = await sec.post(`/api/meetings/${m.body.id}/publish`);
  if (p.status !== 200) throw new Error(`publish: ${p.status} ${JSON.stringify(p.body)}`);
  const byRole = { chair, secretary } as const;
  return {
    meetingId: m.body.id,
    committeeId: c.body.id,
    itemIds,
    chair,
    secretary,
    members,
    guests: [],
    login,
    as: (role, index = 0) => login(role === 'member' ? members[index] : role === 'guest' ? [][index] : byRole[role]),
  };
}

/**
 * Puts built users in units (admin API). The directory's units are its users' units: a task's owner unit and its
 * co-operating units must be one of them, and "my tasks" of a person lists their unit's tasks. Give each test units
 * of its own (`ownUnit`) so no other test's people share them.
 */
export async function giveUnits(admin: HttpClient, units: [BuiltUser, string][]): Promise<void> {
  for (const [u, unit] of units) {
    const r = await admin.patch(`/api/users/${u.id}`, { unit });
    if (r.status !== 200) throw new Error(`set unit of ${u.username}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/** A unit name no other test uses: `name` with a random tag ("Sở Tài chính · 3f9a1c2e"). */
export const ownUnit = (name: string) => `${name} · ${suffix()}`;

/**
 * Gives built users real-looking full names (their `fullName` is updated too), for tests whose screenshots go to
 * docs/screenshots (`npm run screenshots`): "Nguyễn Văn An" rather than "Thành viên 1 3fbb49ab".
 */
export async function nameUsers(admin: HttpClient, names: [BuiltUser, string][]): Promise<void> {
  for (const [u, fullName] of names) {
    const r = await admin.patch(`/api/users/${u.id}`, { fullName });
    if (r.status !== 200) throw new Error(`name ${u.username}: ${r.status} ${JSON.stringify(r.body)}`);
    u.fullName = fullName;
  }
}
