import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol/common.js';
import type { Sfu } from '../../server/sfu/sfu.service.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';

/** An Opus microphone as mediasoup-client describes it. */
const opus = (ssrc: number) => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, minptime: 10 }, rtcpFeedback: [{ type: 'transport-cc' }] }],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 }],
  encodings: [{ ssrc, dtx: false }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});
/** A receiving device's capabilities (Opus). */
const CAPS = { codecs: [{ kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [{ type: 'transport-cc' }] }], headerExtensions: [] };

const data = (a: Ack<any>) => {
  if (!a.ok) throw new Error(JSON.stringify(a.error));
  return a.data;
};

/**
 * Attacker's check on the SFU with a real mediasoup worker: a participant removed from a meeting
 * must lose its audio/video at once — not keep listening through transports opened before.
 */
describe('attacker: a participant removed from a meeting keeps no media', () => {
  let s: TestServer;
  let sfu: Sfu;
  let m: BuiltMeeting;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    sfu = s.app.ctx.sfu!;
    m = await buildMeeting(s, { members: 2, agendaItems: 1 });
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s?.close();
  });

  const open = async (role: 'member' | 'secretary', index = 0) => {
    const sock = await connected(connectSocket(s.url, await m.as(role, index), { reconnection: false }));
    sockets.push(sock);
    return sock;
  };
  const room = () => sfu.stats().rooms.find((r) => r.meetingId === m.meetingId);

  it('removing a participant closes the transports, producers and consumers of every device of theirs at once; others see their producer end; they cannot signal again', async () => {
    expect(sfu.enabled, 'the mediasoup worker must be installed for this test').toBe(true);
    const meetingId = m.meetingId;
    // The victim: a tablet that speaks and listens, and a phone that listens.
    const tablet = await open('member', 0);
    data(await tablet.cmd('av:join', { meetingId, receiveOnly: false }));
    const send = data(await tablet.cmd('av:createTransport', { meetingId, direction: 'send' }));
    const recv = data(await tablet.cmd('av:createTransport', { meetingId, direction: 'recv' }));
    const victimMic = data(await tablet.cmd('av:produce', { meetingId, transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opus(1111) }));
    const phone = await open('member', 0);
    data(await phone.cmd('av:join', { meetingId, receiveOnly: true }));
    const phoneRecv = data(await phone.cmd('av:createTransport', { meetingId, direction: 'recv' }));

    // Another member who speaks and listens to the victim.
    const other = await open('member', 1);
    data(await other.cmd('av:join', { meetingId, receiveOnly: false }));
    const oSend = data(await other.cmd('av:createTransport', { meetingId, direction: 'send' }));
    const oRecv = data(await other.cmd('av:createTransport', { meetingId, direction: 'recv' }));
    const otherMic = data(await other.cmd('av:produce', { meetingId, transportId: oSend.id, kind: 'audio', source: 'mic', rtpParameters: opus(2222) }));
    data(await other.cmd('av:consume', { meetingId, transportId: oRecv.id, producerId: victimMic.id, rtpCapabilities: CAPS }));
    // The victim listens to the other member on both devices.
    data(await tablet.cmd('av:consume', { meetingId, transportId: recv.id, producerId: otherMic.id, rtpCapabilities: CAPS }));
    data(await phone.cmd('av:consume', { meetingId, transportId: phoneRecv.id, producerId: otherMic.id, rtpCapabilities: CAPS }));

    const router = sfu.router(meetingId)!;
    const dump0 = (await router.dump()) as { transportIds: string[] };
    const victimTransports = [send.id, recv.id, phoneRecv.id];
    expect(dump0.transportIds).toEqual(expect.arrayContaining([...victimTransports, oSend.id, oRecv.id]));
    expect(room()).toMatchObject({ peers: 3, producers: 2, consumers: 3 });

    const sec = await m.as('secretary');
    const meeting = (await sec.get(`/api/meetings/${meetingId}`)).body;
    const keep = (meeting.participants as { userId: number; role: string; canVote: boolean }[]).filter((x) => x.userId !== m.members[0].id).map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    expect((await sec.patch(`/api/meetings/${meetingId}`, { version: meeting.version, participants: keep })).status).toBe(200);

    // Both devices are told, the other member's consumer of the victim's microphone ends.
    for (const dev of [tablet, phone]) expect(await dev.waitFor('av:reset', (d) => d.reason === 'access_revoked')).toEqual({ reason: 'access_revoked', rejoin: false });
    await other.waitFor('av:consumerClosed', (d) => d.producerId === victimMic.id);
    await other.waitFor('av:peerLeft', (d) => d.userId === m.members[0].id);
    // In the worker: the victim's transports are gone (their producer and consumers with them); the other's stay.
    const dump1 = (await router.dump()) as { transportIds: string[] };
    for (const id of victimTransports) expect(dump1.transportIds).not.toContain(id);
    expect(dump1.transportIds).toEqual(expect.arrayContaining([oSend.id, oRecv.id]));
    expect(room()).toMatchObject({ users: [m.members[1].id], peers: 1, producers: 1, consumers: 0 });

    // No way back in: every A/V command for the meeting is refused as if it did not exist, and creates nothing.
    for (const [event, payload] of [
      ['av:join', { meetingId, receiveOnly: false }],
      ['av:createTransport', { meetingId, direction: 'recv' }],
      ['av:consume', { meetingId, transportId: recv.id, producerId: otherMic.id, rtpCapabilities: CAPS }],
    ] as const) {
      expect(await tablet.cmd(event, payload), event).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    await until(async () => ((await router.dump()) as { transportIds: string[] }).transportIds.length === 2, { what: 'only the other member’s transports' });
  });
});
