import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol/common.js';
import { AV_LIMITS } from '../../shared/protocol/av.js';
import { DEBIAN_WORKER_BIN } from '../../server/sfu/sfu.config.js';
import type { Sfu } from '../../server/sfu/sfu.service.js';
import { type BuiltMeeting, type BuiltUser, buildCommitteeMeeting, buildMeeting, buildRoomStation, usersByName } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected, type TestSocket } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/** What a browser would send for an Opus microphone (mediasoup-client's shape). */
const opus = (ssrc: number) => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, minptime: 10 }, rtcpFeedback: [{ type: 'transport-cc' }] }],
  headerExtensions: [
    { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 },
    { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 10 },
  ],
  encodings: [{ ssrc, dtx: false }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});

/** A receiving device's capabilities: Opus and VP8, as Chromium reports them. */
const CAPS = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [{ type: 'transport-cc' }] },
    { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'ccm', parameter: 'fir' }] },
  ],
  headerExtensions: [{ kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', preferredId: 10 }],
};
const DTLS = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }] };

describe('SFU signaling and floor control (mediasoup)', () => {
  let srv: TestServer;
  let sfu: Sfu;
  const sockets: TestSocket[] = [];
  /** The meeting of the running test (set by `world`), its people by name and their ids. */
  let MEETING = 0;
  let m: BuiltMeeting;
  let users: Record<string, BuiltUser> = {};
  let ids: Record<string, number> = {};

  /**
   * Each test's own published meeting: a chair, a secretary and `members` members (member1…), and with
   * `station` a room of its own whose room station account (`room1`) is a participant.
   */
  const world = async (members: number, opts: { station?: boolean } = {}) => {
    m = await buildMeeting(srv, { members, agendaItems: 1 });
    users = usersByName(m);
    if (opts.station) users.room1 = await buildRoomStation(srv, m);
    ids = Object.fromEntries(Object.entries(users).map(([k, u]) => [k, u.id]));
    MEETING = m.meetingId;
  };

  const open = async (username: string) => {
    const s = await connected(connectSocket(srv.url, await m.login(users[username]), { reconnection: false }));
    sockets.push(s);
    return s;
  };
  /** Joins A/V and creates a transport; returns the socket, the join data and the transport id. */
  const joined = async (username: string, direction: 'send' | 'recv' = 'send', meetingId = MEETING, receiveOnly = false) => {
    const s = await open(username);
    const join = await s.cmd('av:join', { meetingId, receiveOnly });
    expect(join.ok, JSON.stringify(join)).toBe(true);
    const t = await s.cmd('av:createTransport', { meetingId, direction });
    return { s, join: join.ok ? join.data : null, transportId: t.ok ? (data(t).id as string) : '' };
  };
  const produceMic = async (s: TestSocket, transportId: string, ssrc: number, meetingId = MEETING) =>
    s.cmd('av:produce', { meetingId, transportId, kind: 'audio', source: 'mic', rtpParameters: opus(ssrc) });
  /** The acknowledgement's data (throws with the error when it failed). */
  const data = (a: Ack<any>) => {
    if (!a.ok) throw new Error(JSON.stringify(a.error));
    return a.data;
  };
  const room = (meetingId = MEETING) => sfu.stats().rooms.find((r) => r.meetingId === meetingId);

  beforeAll(async () => {
    srv = await startTestServer({ seed: 'admin' });
    sfu = srv.app.ctx.sfu!;
  });
  /** A second meeting of the test's committee (chair, member1, member2). */
  const newMeetingB = async () =>
    (
      await buildCommitteeMeeting(m, {
        publish: true,
        participants: [
          { user: users.chair, role: 'chair' },
          { user: users.member1, role: 'member' },
          { user: users.member2, role: 'member' },
        ],
      })
    ).meetingId;
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv?.close();
  });

  it('reports sfu "ok" at /healthz when the worker binary is installed (fails, never skips, when it is missing)', async () => {
    const bin = process.env.MEDIASOUP_WORKER_BIN ?? DEBIAN_WORKER_BIN;
    expect(fs.existsSync(bin), `mediasoup worker expected at ${bin}`).toBe(true);
    const r = await srv.anonymous().get('/healthz');
    expect(r.body.sfu).toBe('ok');
  });

  it('av:join returns the router capabilities and the floor; a meeting one is not invited to is not_found', async () => {
    await world(3);
    const meetingB = await newMeetingB();
    const { join } = await joined('member1');
    expect(join.routerRtpCapabilities.codecs.some((c: { mimeType: string }) => c.mimeType === 'audio/opus')).toBe(true);
    expect(join.floor).toMatchObject({ speakerUserId: null, openDiscussion: false });
    const m3 = await open('member3');
    const r = await m3.cmd('av:join', { meetingId: meetingB });
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(room(meetingB)).toBeUndefined();
  });

  it('signaling for another meeting’s or another person’s transport is refused with not_found', async () => {
    await world(3);
    const meetingB = await newMeetingB();
    const a = await joined('member1', 'send', MEETING);
    const bSide = await a.s.cmd('av:join', { meetingId: meetingB });
    expect(bSide.ok).toBe(true);
    // member1's own transport of meeting 1, named in meeting B
    const cross = await a.s.cmd('av:connectTransport', { meetingId: meetingB, transportId: a.transportId, dtlsParameters: DTLS });
    expect(cross).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const crossProduce = await produceMic(a.s, a.transportId, 1111, meetingB);
    expect(crossProduce).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // someone else using member1's transport id in the right meeting
    const other = await joined('member2', 'send', MEETING);
    const stolen = await other.s.cmd('av:connectTransport', { meetingId: MEETING, transportId: a.transportId, dtlsParameters: DTLS });
    expect(stolen).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // and signaling before joining at all
    const m3 = await open('member3');
    expect(await m3.cmd('av:createTransport', { meetingId: MEETING, direction: 'send' })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
  });

  it('a microphone without the floor is paused on the server and stays paused when its client unmutes; granting the floor opens it', async () => {
    await world(2);
    const speaker = await joined('member1');
    const listener = await joined('member2', 'recv');
    const p = await produceMic(speaker.s, speaker.transportId, 5005);
    expect(p).toMatchObject({ ok: true, data: { paused: true } });
    const c = await listener.s.cmd('av:consume', { meetingId: MEETING, transportId: listener.transportId, producerId: data(p).id, rtpCapabilities: CAPS });
    expect(c).toMatchObject({ ok: true, data: { producerPaused: true, userId: ids.member1, source: 'mic' } });
    // a modified client trying to open its own microphone
    const unmute = await speaker.s.cmd('av:setMuted', { meetingId: MEETING, muted: false });
    expect(unmute).toMatchObject({ ok: true, data: { micOpen: false } });
    expect(sfu.floorState(MEETING).openMics).not.toContain(ids.member1);

    await sfu.setSpeaker(MEETING, ids.member1);
    await listener.s.waitFor('av:producerPaused', (d) => d.producerId === data(p).id && d.paused === false);
    expect(sfu.floorState(MEETING).openMics).toContain(ids.member1);
    // the floor moves on: the microphone follows
    await sfu.setSpeaker(MEETING, ids.member2);
    await listener.s.waitFor('av:producerPaused', (d) => d.producerId === data(p).id && d.paused === true);
    expect(sfu.floorState(MEETING).openMics).not.toContain(ids.member1);
    await sfu.setSpeaker(MEETING, null);
  });

  it('the speakers’ list drives the microphones: speaker:grant opens the speaker’s, speaker:end closes it', async () => {
    await world(1);
    const chair = await open('chair');
    const m1 = await open('member1');
    const r = (x: Ack<any>) => expect(x, JSON.stringify(x)).toMatchObject({ ok: true });
    r(await chair.cmd('meeting:open', { meetingId: MEETING, overrideReason: 'Kiểm thử' }));
    r(await m1.cmd('attendance:check_in', { meetingId: MEETING, mode: 'remote' }));
    const av = await joined('member1');
    const p = data(await produceMic(av.s, av.transportId, 10_010));
    expect(p.paused).toBe(true);
    const req = data(await m1.cmd('speaker:request', { meetingId: MEETING, kind: 'speech' }));
    r(await chair.cmd('speaker:grant', { meetingId: MEETING, requestId: req.requestId }));
    await av.s.waitFor('av:producerPaused', (d) => d.producerId === p.id && d.paused === false);
    expect(sfu.floorState(MEETING)).toMatchObject({ speakerUserId: ids.member1 });
    r(await chair.cmd('speaker:end', { meetingId: MEETING }));
    await av.s.waitFor('av:producerPaused', (d) => d.producerId === p.id && d.paused === true);
    expect(sfu.floorState(MEETING).openMics).not.toContain(ids.member1);
    r(await av.s.cmd('av:leave', { meetingId: MEETING }));
  });

  it('the chair opens discussion and mutes anyone; members may not; the room station is heard unless the chair mutes it', async () => {
    await world(1, { station: true });
    const m1 = await joined('member1');
    const p1 = await produceMic(m1.s, m1.transportId, 7007);
    const station = await joined('room1');
    expect(station.join.roomStation).toBe(true);
    const ps = await produceMic(station.s, station.transportId, 9009);
    expect(ps).toMatchObject({ ok: true, data: { paused: false } });
    const chair = await open('chair');
    expect(await m1.s.cmd('av:setOpenDiscussion', { meetingId: MEETING, open: true })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await m1.s.cmd('av:mute', { meetingId: MEETING, userId: ids.room1 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const opened = await chair.cmd('av:setOpenDiscussion', { meetingId: MEETING, open: true });
    expect(opened.ok && opened.data.openMics).toContain(ids.member1);
    await m1.s.waitFor('av:producerPaused', (d) => d.producerId === data(p1).id && !d.paused);
    const muted = await chair.cmd('av:mute', { meetingId: MEETING, userId: ids.member1 });
    expect(muted.ok && muted.data.openMics).not.toContain(ids.member1);
    const mutedRoom = await chair.cmd('av:mute', { meetingId: MEETING, userId: ids.room1 });
    expect(mutedRoom.ok && mutedRoom.data.openMics).not.toContain(ids.room1);
    // the muted member cannot undo it
    expect(await m1.s.cmd('av:setMuted', { meetingId: MEETING, muted: false })).toMatchObject({ ok: true, data: { micOpen: false } });
    await chair.cmd('av:mute', { meetingId: MEETING, userId: ids.room1, muted: false });
    await chair.cmd('av:setOpenDiscussion', { meetingId: MEETING, open: false });
    expect(sfu.floorState(MEETING).openMics).toEqual([ids.room1]);
    void ps;
  });

  it('re-joining resets one’s media without closing the meeting’s router, even as its only participant', async () => {
    await world(1);
    const { meetingId: meetingC } = await buildCommitteeMeeting(m, { publish: true, participants: [{ user: users.member1, role: 'member' }] });
    const { s, transportId } = await joined('member1', 'send', meetingC);
    const router = sfu.router(meetingC)!;
    expect(room(meetingC)!.peers).toBe(1);
    expect(await s.cmd('av:join', { meetingId: meetingC })).toMatchObject({ ok: true });
    expect(router.closed).toBe(false);
    expect(sfu.router(meetingC)).toBe(router);
    expect(await s.cmd('av:connectTransport', { meetingId: meetingC, transportId, dtlsParameters: DTLS })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await s.cmd('av:createTransport', { meetingId: meetingC, direction: 'send' })).toMatchObject({ ok: true });
    await s.cmd('av:leave', { meetingId: meetingC });
    await until(() => !sfu.router(meetingC), { what: 'meeting C released' });
  });

  it('a tablet joined receive-only cannot send (no echo)', async () => {
    await world(1);
    const tablet = await open('member1');
    await tablet.cmd('av:join', { meetingId: MEETING, receiveOnly: true });
    expect(await tablet.cmd('av:createTransport', { meetingId: MEETING, direction: 'send' })).toMatchObject({ ok: false, error: { code: 'receive_only' } });
    expect(await tablet.cmd('av:createTransport', { meetingId: MEETING, direction: 'recv' })).toMatchObject({ ok: true });
  });

  it('consuming a producer one may not consume is refused: another meeting’s, one’s own, or with incapable codecs', async () => {
    await world(3);
    const meetingB = await newMeetingB();
    const b = await joined('member2', 'send', meetingB);
    const pb = await produceMic(b.s, b.transportId, 2002, meetingB);
    expect(pb.ok).toBe(true);
    const a = await joined('member3', 'recv', MEETING);
    expect(await a.s.cmd('av:consume', { meetingId: MEETING, transportId: a.transportId, producerId: data(pb).id, rtpCapabilities: CAPS })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    // own producer, on one's second device
    const own = await open('member2');
    await own.cmd('av:join', { meetingId: meetingB });
    const t = await own.cmd('av:createTransport', { meetingId: meetingB, direction: 'recv' });
    expect(await own.cmd('av:consume', { meetingId: meetingB, transportId: data(t).id, producerId: data(pb).id, rtpCapabilities: CAPS })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const chairB = await joined('chair', 'recv', meetingB);
    const noOpus = { codecs: [CAPS.codecs[1]] };
    expect(await chairB.s.cmd('av:consume', { meetingId: meetingB, transportId: chairB.transportId, producerId: data(pb).id, rtpCapabilities: noOpus })).toMatchObject({
      ok: false,
      error: { code: 'cannot_consume' },
    });
    const okc = await chairB.s.cmd('av:consume', { meetingId: meetingB, transportId: chairB.transportId, producerId: data(pb).id, rtpCapabilities: CAPS });
    expect(okc.ok).toBe(true);
    expect(await chairB.s.cmd('av:resume', { meetingId: meetingB, consumerId: data(okc).id })).toMatchObject({ ok: true });
  });

  it('malformed RTP and DTLS parameters are refused and create nothing', async () => {
    await world(1);
    const m = await joined('member1');
    const good = opus(1010);
    const bad: unknown[] = [
      { ...good, codecs: [] },
      { ...good, codecs: [{ ...good.codecs[0], payloadType: 300 }] },
      { ...good, codecs: [{ ...good.codecs[0], mimeType: 'text/html' }] },
      { ...good, codecs: [{ ...good.codecs[0], clockRate: -1 }] },
      { ...good, encodings: [{ ssrc: -5 }] },
      { ...good, encodings: Array.from({ length: 50 }, (_, i) => ({ ssrc: i })) },
      { ...good, headerExtensions: [{ uri: 'x'.repeat(5000), id: 1 }] },
      { ...good, codecs: [{ ...good.codecs[0], parameters: { nested: { deep: 1 } } }] },
      'not an object',
      null,
    ];
    for (const rtpParameters of bad) {
      const r = await m.s.cmd('av:produce', { meetingId: MEETING, transportId: m.transportId, kind: 'audio', source: 'mic', rtpParameters });
      expect(r, JSON.stringify(rtpParameters).slice(0, 80)).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
    // well-formed but meaningless to the router: a codec it does not have, or video parameters on a microphone
    const unknownCodec = { ...good, codecs: [{ ...good.codecs[0], mimeType: 'audio/NOPE' }] };
    expect(await m.s.cmd('av:produce', { meetingId: MEETING, transportId: m.transportId, kind: 'audio', source: 'mic', rtpParameters: unknownCodec })).toMatchObject({
      ok: false,
      error: { code: 'invalid_rtp_parameters' },
    });
    expect(await m.s.cmd('av:produce', { meetingId: MEETING, transportId: m.transportId, kind: 'video', source: 'mic', rtpParameters: good })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    const badDtls = { role: 'client', fingerprints: [{ algorithm: 'md5', value: 'zz' }] };
    expect(await m.s.cmd('av:connectTransport', { meetingId: MEETING, transportId: m.transportId, dtlsParameters: badDtls })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    const dump = await sfu.router(MEETING)!.dump();
    const mine = (await sfu.router(MEETING)!.dump()).transportIds.includes(m.transportId);
    expect(mine).toBe(true);
    expect(Object.keys(dump.mapProducerIdConsumerIds).length).toBe(room()!.producers);
    // and the process still serves the next correct request
    expect(await produceMic(m.s, m.transportId, 1011)).toMatchObject({ ok: true });
  });

  it('thousands of transport requests from one client are limited: at most the per-participant limit is created', async () => {
    await world(1);
    const s = await open('member1');
    await s.cmd('av:join', { meetingId: MEETING });
    const before = (await sfu.router(MEETING)!.dump()).transportIds.length;
    const results = await Promise.all(Array.from({ length: 2000 }, () => s.cmd('av:createTransport', { meetingId: MEETING, direction: 'recv' })));
    const ok = results.filter((r) => r.ok).length;
    const codes = new Set(results.filter((r) => !r.ok).map((r) => (r as { error: { code: string } }).error.code));
    expect(ok).toBe(AV_LIMITS.transports);
    expect([...codes].every((c) => c === 'limit_exceeded' || c === 'rate_limited')).toBe(true);
    expect(codes.has('limit_exceeded')).toBe(true);
    const after = (await sfu.router(MEETING)!.dump()).transportIds.length;
    expect(after - before).toBe(AV_LIMITS.transports);
  });

  it('a participant disconnecting mid-negotiation leaves nothing behind', async () => {
    await world(2);
    // Another participant keeps the meeting's router alive whatever ran before.
    const keeper = await joined('member1', 'recv');
    const s = await open('member2');
    await s.cmd('av:join', { meetingId: MEETING });
    expect(room()!.users).toContain(ids.member2);
    // fire the negotiation and drop the socket before the acknowledgements come back
    s.socket.emit('av:createTransport', { meetingId: MEETING, direction: 'send' }, () => {});
    s.socket.emit('av:createTransport', { meetingId: MEETING, direction: 'recv' }, () => {});
    s.close();
    await until(() => !room()!.users.includes(ids.member2), { what: 'member2 released' });
    await until(async () => (await sfu.router(MEETING)!.dump()).transportIds.length === room()!.transports, { what: 'no orphan transports in the router' });
    await keeper.s.cmd('av:leave', { meetingId: MEETING });
  });

  it('a meeting whose last participant leaves releases its router; a closed meeting tells everyone to drop A/V', async () => {
    await world(2);
    const meetingB = await newMeetingB();
    const first = await joined('member1', 'send', meetingB);
    const second = await joined('member2', 'recv', meetingB);
    const routerBefore = sfu.router(meetingB)!;
    expect(room(meetingB)!.peers).toBe(2);
    await first.s.cmd('av:leave', { meetingId: meetingB });
    expect(sfu.router(meetingB)).toBe(routerBefore);
    await second.s.cmd('av:leave', { meetingId: meetingB });
    await until(() => !sfu.router(meetingB), { what: 'meeting B router released' });
    expect(routerBefore.closed).toBe(true);

    const back = await joined('member1', 'send', meetingB);
    await testSql(srv).run("update meetings set status = 'closed' where id = ?", meetingB);
    srv.app.ctx.bus.emit('meeting:changed', { meetingId: meetingB });
    expect(await back.s.waitFor('av:reset', (d) => d.reason === 'meeting_closed')).toMatchObject({ rejoin: false });
    expect(sfu.router(meetingB)).toBeUndefined();
    expect(await back.s.cmd('av:join', { meetingId: meetingB })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
  });

  it('a worker killed during a meeting is replaced: the meeting gets a new router and its participants re-join and produce', async () => {
    await world(1);
    const speaker = await joined('member1');
    const oldRoom = room()!;
    const oldPid = oldRoom.workerPid;
    process.kill(oldPid, 'SIGKILL');
    const reset = await speaker.s.waitFor('av:reset', (d) => d.reason === 'worker_died');
    expect(reset.rejoin).toBe(true);
    await until(() => room() && room()!.workerPid !== oldPid, { what: 'router re-created on a live worker' });
    expect(sfu.workers().map((w) => w.pid)).not.toContain(oldPid);
    const again = await speaker.s.cmd('av:join', { meetingId: MEETING });
    expect(again.ok).toBe(true);
    const t = await speaker.s.cmd('av:createTransport', { meetingId: MEETING, direction: 'send' });
    expect(await produceMic(speaker.s, data(t).id, 3003)).toMatchObject({ ok: true });
    expect((await srv.anonymous().get('/healthz')).body.sfu).toBe('ok');
  });
});

describe('SFU turned off or missing', () => {
  it('the server runs everything else, /healthz says sfu "disabled" with the reason, and av:join answers sfu_disabled', async () => {
    process.env.ECABINET_SFU = 'off';
    let srv: TestServer | undefined;
    try {
      srv = await startTestServer({ seed: 'admin' });
    } finally {
      delete process.env.ECABINET_SFU;
    }
    try {
      const built = await buildMeeting(srv, { members: 1, agendaItems: 1 });
      const h = await srv.anonymous().get('/healthz');
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', sfu: 'disabled' });
      expect(h.body.sfuReason).toMatch(/ECABINET_SFU/);
      const s = await connected(connectSocket(srv.url, await built.as('member', 0), { reconnection: false }));
      expect(await s.cmd('meeting:join', { meetingId: built.meetingId })).toMatchObject({ ok: true });
      expect(await s.cmd('av:join', { meetingId: built.meetingId })).toMatchObject({ ok: false, error: { code: 'sfu_disabled' } });
      s.close();
    } finally {
      await srv.close();
    }
  });
});
