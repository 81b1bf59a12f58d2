import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { HttpClient, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

const LEASE_MS = 1500;

/** What a browser would send for an Opus microphone (mediasoup-client's shape; test/integration/sfu.test.ts). */
const opus = (ssrc: number) => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, minptime: 10 }, rtcpFeedback: [{ type: 'transport-cc' }] }],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 }],
  encodings: [{ ssrc, dtx: false }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});

/**
 * The floor the chair set (open discussion, the chair's mutes) survives the loss of the meeting's owner node
 * (issue #18): two nodes as child processes with the SFU on, one PostgreSQL database; kill -9 of the owner, and
 * the next owner enforces the same microphones (server-side producer pause, so no client can bypass it).
 */
describe('A/V floor settings across a failover', () => {
  let url: string;
  const nodes: ChildServer[] = [];
  const sockets: TestSocket[] = [];
  const tablet = async (node: ChildServer, http: HttpClient) => {
    const x = new HttpClient(node.url);
    x.cookie = http.cookie;
    const t = await connected(connectSocket(node.url, x, { reconnection: false }));
    sockets.push(t);
    return t;
  };

  beforeAll(async () => {
    url = (await testDatabaseUrl(fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-avfloor-'))))!;
    for (const [i, id] of ['n1', 'n2'].entries()) {
      const node = await ChildServer.create({
        ECABINET_SEED: 'admin',
        ECABINET_NODE_ID: id,
        ECABINET_MEETING_LEASE_MS: String(LEASE_MS),
        DATABASE_URL: url,
        ECABINET_SFU_WORKERS: '1',
        // The nodes share this machine: their own RTC ports (the cluster script's are 40000–42999).
        ECABINET_RTC_MIN_PORT: String(46000 + i * 500),
        ECABINET_RTC_MAX_PORT: String(46000 + i * 500 + 499),
      });
      nodes.push(node);
      await node.start();
    }
  }, 400_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes) await n.dispose();
  });

  /** The caller's microphone in the meeting's A/V on this socket: @returns whether the server holds it paused. */
  const microphone = async (t: TestSocket, meetingId: number, ssrc: number): Promise<boolean> => {
    expect(await t.cmd('av:join', { meetingId })).toMatchObject({ ok: true });
    const tr = await t.cmd('av:createTransport', { meetingId, direction: 'send' });
    expect(tr).toMatchObject({ ok: true });
    const p = await t.cmd('av:produce', { meetingId, transportId: tr.ok ? tr.data.id : '', kind: 'audio', source: 'mic', rtpParameters: opus(ssrc) });
    expect(p).toMatchObject({ ok: true });
    return p.ok && p.data.paused;
  };

  it('open discussion and a chair mute set on the owner hold on the next owner after kill -9: the muted member stays silent, the others may speak', { timeout: 180_000 }, async () => {
    const [n1, n2] = nodes;
    const m = await buildMeetingOn(n1, { members: 3, agendaItems: 1 });
    const chairHttp = await m.as('chair');
    const secretary = await m.as('secretary');
    const [muted, other] = m.members;
    const chair = await tablet(n1, chairHttp);
    const sec = await tablet(n1, secretary);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('av:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect(await chair.cmd('av:setOpenDiscussion', { meetingId: m.meetingId, open: true })).toMatchObject({ ok: true, data: { openDiscussion: true } });
    expect(await chair.cmd('av:mute', { meetingId: m.meetingId, userId: muted.id })).toMatchObject({ ok: true, data: { chairMuted: [muted.id] } });

    await n1.kill9();
    // The chair's tablet reaches the other node, which takes the meeting over once the lease expired.
    const chair2 = await tablet(n2, chairHttp);
    await until(
      async () => {
        const a = await chair2.cmd('meeting:join', { meetingId: m.meetingId });
        if (!a.ok && a.error.code !== 'not_owner') throw new Error(JSON.stringify(a));
        return a.ok;
      },
      { timeout: 30_000, interval: 100, what: 'join on the new owner' },
    );
    const joined = await chair2.cmd('av:join', { meetingId: m.meetingId });
    expect(joined).toMatchObject({ ok: true, data: { floor: { openDiscussion: true, chairMuted: [muted.id] } } });

    const mutedTablet = await tablet(n2, await n2.login(muted.username, muted.password));
    const otherTablet = await tablet(n2, await n2.login(other.username, other.password));
    for (const t of [mutedTablet, otherTablet]) expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect(await microphone(otherTablet, m.meetingId, 2222)).toBe(false);
    expect(await microphone(mutedTablet, m.meetingId, 1111)).toBe(true);
    // Unmuting themself does not open it either: the chair's mute holds.
    expect(await mutedTablet.cmd('av:setMuted', { meetingId: m.meetingId, muted: false })).toMatchObject({ ok: true, data: { micOpen: false } });
    // The chair releases the mute on the new owner: it opens (open discussion), and that too is kept.
    expect(await chair2.cmd('av:mute', { meetingId: m.meetingId, userId: muted.id, muted: false })).toMatchObject({ ok: true, data: { openDiscussion: true, chairMuted: [] } });
    await mutedTablet.waitFor('av:producerPaused', (d: { userId: number; paused: boolean }) => d.userId === muted.id && d.paused === false);
  });
});
