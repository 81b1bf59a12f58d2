import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { heavyLimits } from '../../server/http/api.js';
import { connectionLimits } from '../../server/http/connection-caps.js';
import { serverTimeouts } from '../../server/server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';

/**
 * GET /healthz from another loopback address (127.0.0.2), so per-address caps on the attackers'
 * address (127.0.0.1) do not apply to the probe. Resolves with the duration in ms, or Infinity.
 */
function healthz(port: number, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(Infinity);
    }, timeoutMs);
    sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.startsWith('HTTP/1.1 200') && buf.includes('"status":"ok"')) {
        clearTimeout(timer);
        sock.destroy();
        resolve(performance.now() - t0);
      }
    });
    sock.on('error', () => {
      clearTimeout(timer);
      resolve(Infinity);
    });
  });
}

/**
 * Polls /healthz every `everyMs` until `stop()`; returns the durations. `stop()` lets it take at least
 * `min` probes first: a flood the server gets through quickly must still give a sample to judge by.
 */
function probe(port: number, everyMs = 200, min = 5) {
  const durations: number[] = [];
  let running = true;
  const done = (async () => {
    while (running || durations.length < min) {
      durations.push(await healthz(port));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    durations,
    async stop() {
      running = false;
      await done;
      return durations;
    },
  };
}

/**
 * /healthz kept answering: every probe got its 200 (none lost, none over the 10 s probe timeout), the
 * median within 1 s, and at most one probe in ten (at least one allowed) over 1 s. Not a tight timing
 * assert: this machine is shared (load averages of 20–30 were seen while these tests ran), so a single
 * probe may wait for the CPU — a short flood gives only 5 probes, and one of them at 1,003 ms once failed
 * a plain 90% bound in CI. A starved server (the defect this guards) loses probes or answers none in time.
 */
function expectResponsive(d: number[]) {
  const s = JSON.stringify(summary(d));
  expect(d.length).toBeGreaterThan(3);
  expect(d.every(Number.isFinite), s).toBe(true);
  expect(summary(d).p50Ms, s).toBeLessThan(1_000);
  expect(d.filter((x) => x >= 1_000).length, s).toBeLessThanOrEqual(Math.max(1, Math.floor(d.length / 10)));
}

const summary = (d: number[]) => ({ n: d.length, maxMs: Math.round(Math.max(...d)), over1s: d.filter((x) => x >= 1_000).length, p50Ms: Math.round([...d].sort((a, b) => a - b)[Math.floor(d.length / 2)]) });

describe('resource limits: timeouts, connection caps, bounded heavy work', () => {
  const saved = { timeouts: { ...serverTimeouts }, caps: { ...connectionLimits }, heavy: { ...heavyLimits } };
  let s: TestServer;
  beforeAll(async () => {
    // Shorter timeouts than production so the test sees them act; the code path is the same.
    Object.assign(serverTimeouts, { headersMs: 2_000, requestMs: 4_000 });
    // The attackers come from 127.0.0.1: per-address caps apply to loopback here.
    Object.assign(connectionLimits, { tcpPerAddress: 300, exemptLoopback: false });
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    await s.close();
    Object.assign(serverTimeouts, saved.timeouts);
    Object.assign(connectionLimits, saved.caps);
  });
  afterEach(() => Object.assign(heavyLimits, saved.heavy));

  it('the HTTP server has header, request and keep-alive timeouts (requestTimeout is not 0)', () => {
    expect(saved.timeouts.headersMs).toBeGreaterThan(0);
    expect(saved.timeouts.requestMs).toBeGreaterThan(0);
    expect(saved.timeouts.requestMs).toBeLessThanOrEqual(600_000);
    expect(s.http.requestTimeout).toBe(4_000);
    expect(s.http.headersTimeout).toBe(2_000);
    expect(s.http.keepAliveTimeout).toBeGreaterThan(0);
    expect(s.http.keepAliveTimeout).toBeLessThanOrEqual(10_000);
  });

  it('300 slow clients (headers or bodies trickling) are cut off by the timeouts, 100 more are refused by the per-address cap, and /healthz answers throughout', { timeout: 60_000 }, async () => {
    const p = probe(s.port);
    const sockets: net.Socket[] = [];
    const closedAt: number[] = [];
    const lifetimes: number[] = [];
    const t0 = performance.now();
    const open = (kind: 'headers' | 'body') =>
      new Promise<void>((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: s.port });
        const openedAt = performance.now();
        sockets.push(sock);
        sock.on('error', () => {});
        sock.on('close', () => {
          closedAt.push(performance.now() - t0);
          lifetimes.push(performance.now() - openedAt);
        });
        sock.on('connect', () => {
          if (kind === 'headers') sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
          else sock.write('POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"username":"');
          resolve();
        });
      });
    for (let i = 0; i < 400; i++) await open(i % 2 ? 'headers' : 'body');
    // Keep trickling one byte per half second into every connection that is still open.
    const drip = setInterval(() => {
      for (const sock of sockets) if (!sock.destroyed) sock.write('a');
    }, 500);
    try {
      await until(() => closedAt.length === 400, { timeout: 20_000, what: 'every slow connection closed by the server' });
    } finally {
      clearInterval(drip);
    }
    const durations = await p.stop();
    const refusedAtOnce = lifetimes.filter((t) => t < 1_900).length;
    console.info('slow clients:', { closedAll: Math.round(Math.max(...closedAt)), refusedAtOnce, healthz: summary(durations) });
    // 400 opened from one address with a cap of 300: the 100 over the cap are closed at once (before the
    // first timeout could act, 2 s), the rest by the header (2 s) or request (4 s) timeout, not kept for ever.
    expect(refusedAtOnce).toBeGreaterThanOrEqual(100);
    expect(Math.max(...closedAt)).toBeLessThan(12_000);
    expectResponsive(durations);
    expect(await healthz(s.port)).toBeLessThan(3_000);
  });

  it('one user opening 500 sockets gets at most the per-user cap (rate_limited beyond it); /healthz answers throughout and others still connect', { timeout: 60_000 }, async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const member = await m.as('member', 0);
    // Only the per-user cap is under test here (the per-address TCP cap is the previous test's).
    connectionLimits.tcpPerAddress = 0;
    // Probed often: the flood may be over within a second (CI once got 3 probes at 200 ms).
    const p = probe(s.port, 50);
    // The 500 clients run in a child process: their own cost must not be measured as the server's.
    const child = spawn(process.execPath, [path.join(import.meta.dirname, '../helpers/socket-flood.mjs'), s.url, member.cookie, '500', String(PROTOCOL_VERSION)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`socket flood exited ${code}`)));
    });
    const durations = await p.stop();
    const result = JSON.parse(line) as { connected: number; refused: Record<string, number> };
    console.info('500 sockets of one user:', { ...result, healthz: summary(durations) });
    connectionLimits.tcpPerAddress = 300;
    expect(result.connected).toBe(connectionLimits.socketsPerUser);
    // Beyond the cap: refused with rate_limited (a connection the overloaded test machine failed to
    // complete may show as a transport error; what matters is that none got through).
    expect(result.refused.rate_limited).toBeGreaterThanOrEqual(470);
    expectResponsive(durations);
    // Another user is not affected; closing the sockets frees the slots.
    const chair = connectSocket(s.url, await m.as('chair'), { reconnection: false });
    await connected(chair);
    expect((await chair.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
    chair.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    await exited;
    const again = connectSocket(s.url, member, { reconnection: false });
    await until(async () => {
      try {
        await connected(again);
        return true;
      } catch {
        again.socket.connect();
        return false;
      }
    }, { what: 'a slot freed after the sockets closed' });
    again.close();
  });

  it('one user opening 100 Yjs connections gets at most the per-user cap; the rest are refused with 503 before any work', { timeout: 60_000 }, async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const member = await m.as('member', 0);
    const name = `meeting:${m.meetingId}:item:${m.itemIds[0]}:notes`;
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () => {
        const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/yjs/${encodeURIComponent(name)}`, { headers: { cookie: member.cookie } });
        return new Promise<{ ws: WebSocket; status: number }>((resolve) => {
          ws.on('open', () => resolve({ ws, status: 101 }));
          ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
          ws.on('error', () => resolve({ ws, status: 0 }));
        });
      }),
    );
    const open = outcomes.filter((o) => o.status === 101).length;
    const refused = outcomes.filter((o) => o.status === 503).length;
    for (const o of outcomes) o.ws.terminate();
    expect(open).toBe(connectionLimits.yjsPerUser);
    expect(refused).toBe(100 - connectionLimits.yjsPerUser);
  });

  it('heavy exports go through a bounded queue: beyond it 503 busy, never a pile-up; /healthz answers', { timeout: 60_000 }, async () => {
    Object.assign(heavyLimits, { concurrency: 1, queue: 3 });
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const secretary = await m.as('secretary');
    const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed.pdf');
    expect(up.status).toBe(201);
    const p = probe(s.port, 100);
    const rs = await Promise.all(Array.from({ length: 20 }, () => secretary.get(`/api/documents/${up.body.id}/annotations/copy`)));
    const durations = await p.stop();
    const byStatus: Record<number, number> = {};
    for (const r of rs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    console.info('20 parallel annotated copies, concurrency 1, queue 3:', { byStatus, healthz: summary(durations) });
    expect(byStatus[200]).toBeGreaterThanOrEqual(4);
    expect(byStatus[503]).toBeGreaterThan(0);
    expect((byStatus[200] ?? 0) + (byStatus[503] ?? 0)).toBe(20);
    for (const r of rs.filter((x) => x.status === 503)) expect(r.body.error.code).toBe('busy');
    expect(s.app.ctx.api.heavyStats()).toEqual({ running: 0, waiting: 0 });
    expectResponsive(durations);
  });
});
