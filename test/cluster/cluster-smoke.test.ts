import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { RealtimeClient } from '../../client/services/socket.js';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { buildCommitteeMeeting, buildMeetingOn } from '../helpers/factories.js';
import { type HttpClient, loginAt, until } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/**
 * `npm run cluster` for real (issue #18): PostgreSQL, redis-server, HAProxy and three node processes. Sockets
 * of one meeting (`meeting=<id>` in the handshake) reach one node, different meetings spread over the nodes, and
 * when a node is killed (-9) its meetings' sockets reconnect to one living node while the others stay put.
 * Which node holds a socket: its Socket.IO session id starts with the node id (cluster mode).
 */
describe('the local cluster routes realtime connections by meeting', () => {
  let cluster: Cluster;
  const sockets: Socket[] = [];
  let secretary: HttpClient;
  const meetingIds: number[] = [];
  const dbKey = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-cluster-smoke-'));

  const login = (username: string, password?: string) => loginAt(cluster.url, username, password);

  /** A tablet's socket for one meeting, through HAProxy; resolves once connected. */
  const connect = async (meetingId: number | string | null, transports = ['websocket'], ownerHint?: string): Promise<Socket> => {
    const socket = io(cluster.url, {
      path: SOCKET_PATH,
      transports,
      query: { ...(meetingId === null ? {} : { meeting: String(meetingId) }), ...(ownerHint ? { node: ownerHint } : {}) },
      extraHeaders: { cookie: secretary.cookie },
      auth: { protocolVersion: PROTOCOL_VERSION },
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e: Error & { data?: { code?: string } }) => reject(new Error(e.data?.code ?? e.message)));
    });
    return socket;
  };
  const nodeOf = (s: Socket) => (s.connected ? (s.io.engine.id?.split('.')[0] ?? null) : null);
  const join = (s: Socket, meetingId: number) => s.timeout(5000).emitWithAck('meeting:join', { meetingId });

  beforeAll(async () => {
    // Under test:cluster the run's PostgreSQL (a database of its own); elsewhere startCluster starts one.
    const databaseUrl = (await testDatabaseUrl(dbKey)) ?? undefined;
    cluster = await startCluster({ nodes: 3, seed: 'admin', sfu: false, databaseUrl, env: { ECABINET_MEETING_LEASE_MS: '2000', LOG_LEVEL: 'warn' } });
    const m = await buildMeetingOn({ login }, { members: 1, agendaItems: 0 });
    secretary = await m.as('secretary');
    meetingIds.push(m.meetingId);
    // Enough meetings that the consistent hash puts some on different nodes (which ones is HAProxy's to say).
    for (let i = 0; i < 7; i++) meetingIds.push((await buildCommitteeMeeting(m, { secretary, publish: true })).meetingId);
  }, 300_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await cluster?.stop();
    fs.rmSync(dbKey, { recursive: true, force: true });
  }, 120_000);

  it('names the answering node, refuses a malformed meeting parameter, spreads meetings and keeps a meeting on one node; a killed node moves only its own meetings', async () => {
    const ready = await fetch(`${cluster.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(cluster.nodes.map((n) => n.id)).toContain(ready.headers.get('x-ecabinet-node'));

    // A routing key that is not a strict id is refused at the handshake (HAProxy would hash it as any string).
    await expect(connect('01')).rejects.toThrow('invalid_payload');

    // A page without a meeting, over long-polling: its requests go round robin, yet each reaches the node
    // holding its session (HAProxy follows the session id's node prefix), so it works as on one node.
    const plain = await connect(null, ['polling']);
    for (let i = 0; i < 6; i++) expect((await plain.timeout(5000).emitWithAck('clock:sync', { commandId: `clock-sync-${i}` })).ok).toBe(true);
    expect(plain.connected).toBe(true);

    // Two sockets per meeting: both on the same node, and that node serves the meeting (join answers).
    const placed = new Map<number, { node: string; pair: Socket[] }>();
    for (const meetingId of meetingIds) {
      const pair = [await connect(meetingId), await connect(meetingId)];
      const nodes = pair.map(nodeOf);
      expect(nodes[0], `meeting ${meetingId}`).toMatch(/^n[123]$/);
      expect(nodes[1], `meeting ${meetingId}`).toBe(nodes[0]);
      for (const s of pair) expect((await join(s, meetingId)).ok, `join ${meetingId}`).toBe(true);
      placed.set(meetingId, { node: nodes[0]!, pair });
    }
    const used = new Set([...placed.values()].map((p) => p.node));
    expect(used.size, `meetings per node: ${JSON.stringify([...placed].map(([id, p]) => [id, p.node]))}`).toBeGreaterThanOrEqual(2);
    // The status (npm run cluster -- status) agrees with where the sockets went.
    const before = await cluster.status();
    for (const [meetingId, p] of placed) {
      const m = before.meetings.find((x) => x.meetingId === meetingId);
      expect(m?.routedTo).toBe(p.node);
      // The node the sockets reached took the meeting's lease when they joined.
      expect(m?.owner?.nodeId).toBe(p.node);
    }
    expect(before.nodes.every((n) => n.ready && n.haproxy === 'UP')).toBe(true);

    // kill -9 the node serving the first meeting: its meetings' sockets reconnect (the client retries by
    // itself) to one living node and are served there; the other meetings' sockets never move.
    const victim = placed.get(meetingIds[0])!.node;
    const killedAt = Date.now();
    cluster.kill(victim, 'SIGKILL');
    for (const [meetingId, p] of placed) {
      if (p.node !== victim) continue;
      const moved = await until(
        () => {
          const nodes = p.pair.map(nodeOf);
          return nodes[0] && nodes[0] !== victim && nodes[1] === nodes[0] ? nodes[0] : null;
        },
        { timeout: 15_000, what: `meeting ${meetingId}'s sockets to reconnect to one living node` },
      );
      expect(moved).not.toBe(victim);
      // The new node serves it (a lease may make it wait for the old owner's to expire: it answers within seconds).
      await until(async () => (await join(p.pair[0], meetingId).catch(() => ({ ok: false }))).ok, { timeout: 15_000, interval: 200, what: `meeting ${meetingId} to answer on ${moved}` });
    }
    expect(Date.now() - killedAt, 'from the kill until every moved meeting answered').toBeLessThan(10_000);
    for (const [, p] of placed) if (p.node !== victim) expect(p.pair.map(nodeOf)).toEqual([p.node, p.node]);
    const during = await cluster.status();
    expect(during.nodes.find((n) => n.id === victim)).toMatchObject({ ready: false, haproxy: 'DOWN', pid: null });
    for (const [meetingId, p] of placed) {
      if (p.node !== victim) continue;
      const m = during.meetings.find((x) => x.meetingId === meetingId);
      expect(m?.owner?.nodeId).toBe(m?.routedTo);
      expect(m?.owner?.nodeId).not.toBe(victim);
      expect(m?.owner?.epoch).toBeGreaterThanOrEqual(2);
    }

    // Back on its port: HAProxy takes it into the ring again, and new connections of its meetings go to it.
    await cluster.restartNode(victim);
    await until(async () => (await cluster.status()).nodes.every((n) => n.ready && n.haproxy === 'UP'), { timeout: 15_000, interval: 250, what: `${victim} back in HAProxy` });
    const first = placed.get(meetingIds[0])!;
    const back = await connect(meetingIds[0]);
    expect(nodeOf(back)).toBe(victim);
    // It does not own the meeting (the living node kept the lease): it says who does, and a handshake naming
    // that node reaches it ahead of the hash.
    const refused = await join(back, meetingIds[0]);
    const owner = nodeOf(first.pair[0])!;
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: owner } } });
    expect(nodeOf(await connect(meetingIds[0], ['websocket'], owner))).toBe(owner);

    // The web client's own connection does that by itself: routed by the meeting it opens, it lands on the
    // restarted node, is told not_owner, and reconnects to the owner, where it gets the meeting's snapshot.
    const app = new RealtimeClient({ url: cluster.url, transports: ['websocket'], extraHeaders: { cookie: secretary.cookie } });
    try {
      const started = Date.now();
      let snapshot = false;
      const channel = app.meeting(meetingIds[0]).onSnapshot(() => (snapshot = true));
      await until(() => snapshot, { timeout: 10_000, what: 'the web client to join the meeting on its owner' });
      expect(nodeOf(app.socket as unknown as Socket)).toBe(owner);
      expect(Date.now() - started).toBeLessThan(10_000);
      channel.close();
    } finally {
      app.close();
    }
  });
});
