import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MeetingChannel, RealtimeClient } from '../../client/services/socket.js';
import { ChildServer } from '../helpers/child-server.js';
import { type BuiltMeeting, type BuiltUser, buildMeetingOn, usersByName } from '../helpers/factories.js';
import { type HttpClient, until } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';

/**
 * kill -9 in the middle of a meeting: the real server as a child process, real socket.io clients
 * (the app's own RealtimeClient), SIGKILL, restart on the same data directory and port.
 */
describe('live meeting survives kill -9', () => {
  let child: ChildServer;
  const clients: RealtimeClient[] = [];
  let m: BuiltMeeting;
  let people: Record<string, BuiltUser>;
  let ids: Record<string, number>;
  let meetingId = 0;

  async function client(username: string): Promise<RealtimeClient> {
    const http: HttpClient = await m.login(people[username]);
    const c = new RealtimeClient({ url: child.url, transports: ['websocket'], extraHeaders: { cookie: http.cookie } });
    clients.push(c);
    await until(() => c.state === 'online', { what: `${username} online` });
    return c;
  }

  let documentId = 0;
  beforeAll(async () => {
    child = await ChildServer.create({ ECABINET_SEED: 'admin' });
    await child.start();
    // A published meeting of its own: chair, secretary, member1..10, three agenda items, a document on the first.
    m = await buildMeetingOn(child, { members: 10, agendaItems: 3 });
    people = usersByName(m);
    ids = Object.fromEntries(Object.entries(people).map(([k, u]) => [k, u.id]));
    meetingId = m.meetingId;
    documentId = (await upload(await m.as('secretary'), meetingId, m.itemIds[0], pdf('empty.pdf'), 'empty.pdf', { access: 'all', published: 'true' })).body.id;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await child?.dispose();
  });

  // Two starts of the server as a child process (tsx start-up each): more than the default minute on a loaded machine.
  it('after a restart attendance, current item, speakers list, floor and presenter are exactly as acknowledged, and clients reconnect by themselves', { timeout: 180_000 }, async () => {
    const [chair, secretary, member1, member2] = [await client('chair'), await client('secretary'), await client('member1'), await client('member2')];
    const channel: MeetingChannel = member2.meeting(meetingId);
    const snapshots: any[] = [];
    const pushes: [string, unknown][] = [];
    channel.onSnapshot((ack) => snapshots.push(ack)).onPush((event, data) => pushes.push([event, data]));
    await until(() => snapshots.length === 1, { what: 'first snapshot' });

    for (let i = 1; i <= 8; i++) await secretary.command('attendance:check_in', { meetingId, userId: ids[`member${i}`], mode: i % 2 ? 'in_room' : 'remote' });
    await secretary.command('attendance:mark_absent', { meetingId, userId: ids.member9, reason: 'Ốm' });
    await secretary.command('attendance:set_proxy', { meetingId, userId: ids.member10, holderId: ids.member1, reason: 'Giấy ủy quyền' });
    await chair.command('meeting:open', { meetingId });
    await chair.command('agenda:next', { meetingId });
    const r1 = await member1.command('speaker:request', { meetingId, kind: 'speech' });
    await member2.command('speaker:request', { meetingId, kind: 'question' });
    const floor = await chair.command('speaker:grant', { meetingId, requestId: r1.requestId, seconds: 300 });
    await chair.command('presenter:show', { meetingId, documentId, page: 4 });
    const lastCommandId = 'crash-test-last-request';
    const last = await member1.command('attendance:check_in', { meetingId, mode: 'in_room', commandId: lastCommandId });
    await until(() => pushes.some(([e]) => e === 'attendance:changed') && channel.seq >= 8, { what: 'pushes applied' });

    // The state as the server acknowledged it, read through a fresh join.
    const before = (await chair.command('meeting:join', { meetingId })).snapshot.live as any;
    expect(before.meeting.status).toBe('live');
    expect(before.speakers.floor).toEqual(floor);

    await child.kill9();
    await until(() => clients.every((c) => c.state === 'offline'), { what: 'clients offline' });
    await child.start();
    await until(() => clients.every((c) => c.state === 'online'), { timeout: 20_000, what: 'clients reconnected by themselves' });

    // The channel re-joined on its own and replaced its state with the snapshot of the new epoch.
    await until(() => snapshots.length >= 2, { what: 'resync snapshot' });
    const after = snapshots.at(-1);
    expect(after.epoch).not.toBe(snapshots[0].epoch);
    const live = after.snapshot.live;
    const strip = (s: any) => ({ ...s, attendance: { ...s.attendance, attendance: s.attendance.attendance.map((a: any) => ({ ...a, online: undefined })) } });
    expect(strip(live)).toEqual(strip(before));
    expect(live.agenda.items.find((i: any) => i.status === 'current')).toBeTruthy();
    expect(live.attendance.quorum.sentence).toBe(before.attendance.quorum.sentence);

    // A retry of the last acknowledged command gets the same ack and changes nothing.
    expect(await member1.command('attendance:check_in', { meetingId, mode: 'in_room', commandId: lastCommandId })).toEqual(last);
    // And the meeting goes on.
    const next = await chair.command('speaker:next', { meetingId });
    expect(next?.userId).toBe(ids.member2);
  });
});
