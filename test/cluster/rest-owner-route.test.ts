import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_HEADER } from '../../client/services/api.js';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { loginAt } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/**
 * REST writes to a live meeting through HAProxy (#18): REST goes round robin, so a secretary preparing a vote
 * reaches a node that does not own the meeting about two times in three; it answers not_owner naming the owner,
 * and the web client's second attempt carries that name (x-ecabinet-owner), which HAProxy routes to the owner —
 * not round robin again, which could pick another node that is not the owner and show the secretary an error.
 */
describe('a REST request sent again after not_owner reaches the owner through HAProxy', () => {
  let cluster: Cluster;
  const sockets: Socket[] = [];
  const dbKey = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-rest-owner-'));
  const login = (username: string, password?: string) => loginAt(cluster.url, username, password);

  beforeAll(async () => {
    const databaseUrl = (await testDatabaseUrl(dbKey)) ?? undefined;
    cluster = await startCluster({ nodes: 3, seed: 'admin', sfu: false, databaseUrl, env: { ECABINET_MEETING_LEASE_MS: '5000', LOG_LEVEL: 'warn' } });
  }, 300_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await cluster?.stop();
    fs.rmSync(dbKey, { recursive: true, force: true });
  }, 120_000);

  it('round robin meets non-owners; with the owner named every request is made by the owner', async () => {
    const m = await buildMeetingOn({ login }, { members: 1, agendaItems: 1 });
    const secretary = await m.as('secretary');
    // The meeting's owner: the node its sockets reach (HAProxy's hash) takes the lease when the chair joins.
    const chair = await m.as('chair');
    const socket = io(cluster.url, { path: SOCKET_PATH, transports: ['websocket'], query: { meeting: String(m.meetingId) }, extraHeaders: { cookie: chair.cookie }, auth: { protocolVersion: PROTOCOL_VERSION } });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.timeout(5000).emitWithAck('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const owner = socket.io.engine.id!.split('.')[0];
    expect(cluster.nodes.map((n) => n.id)).toContain(owner);

    const prepare = (i: number, headers?: Record<string, string>) => secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: `Biểu quyết ${i}`, kind: 'motion', secret: false }, headers);
    const plain = [];
    for (let i = 0; i < 6; i++) plain.push(await prepare(i));
    const refused = plain.filter((r) => r.status === 409);
    expect(refused.length, plain.map((r) => `${r.status} ${r.headers.get('x-ecabinet-node')}`).join(', ')).toBeGreaterThan(0);
    for (const r of refused) expect(r.body).toMatchObject({ error: { code: 'not_owner', details: { nodeId: owner } } });
    for (const r of plain.filter((x) => x.status !== 409)) {
      expect(r.status).toBe(201);
      expect(r.headers.get('x-ecabinet-node')).toBe(owner);
    }

    for (let i = 0; i < 6; i++) {
      const r = await prepare(10 + i, { [OWNER_HEADER]: owner });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.headers.get('x-ecabinet-node')).toBe(owner);
    }
  });
});
