import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJob, jobsByKeyPrefix } from '../../server/jobs/jobs.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';

/** Prometheus text → { 'name{labels}': value } (labels as printed, sorted by prom-client). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Sum of every series of `name` whose labels contain all of `labels` (`k="v"` pairs). */
function sum(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let n = 0;
  for (const [k, v] of m) {
    const base = k.split('{')[0];
    if (base !== name) continue;
    if (Object.entries(labels).every(([lk, lv]) => k.includes(`${lk}="${lv}"`))) n += v;
  }
  return n;
}

describe('/metrics and /readyz', () => {
  let s: TestServer;
  const sockets: TestSocket[] = [];

  const scrape = async (headers: Record<string, string> = {}) => {
    const r = await fetch(`${s.url}/metrics`, { headers });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    return parse(await r.text());
  };

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await s?.close();
  });

  it('every promised metric is there, and HTTP, socket, vote, ballot, upload, job and database figures move under a small load', async () => {
    const m = await buildMeeting(s, { members: 3, agendaItems: 1 });
    const before = await scrape();
    for (const name of [
      'ecabinet_http_requests_total',
      'ecabinet_http_request_duration_seconds_bucket',
      'ecabinet_socket_clients',
      'ecabinet_meeting_clients',
      'ecabinet_votes_open',
      'ecabinet_jobs',
      'ecabinet_jobs_due',
      'ecabinet_heavy_queue',
      'ecabinet_pdf_pool',
      'ecabinet_sfu_workers',
      'ecabinet_sfu_producers',
      'ecabinet_sfu_consumers',
      'ecabinet_db_transaction_duration_seconds_count',
      'ecabinet_db_size_bytes',
      'ecabinet_db_probe_seconds',
      'ecabinet_data_disk_free_bytes',
      'ecabinet_ready',
      'ecabinet_yjs_connections',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_seconds_total',
    ]) {
      expect([...before.keys()].some((k) => k.split('{')[0] === name), name).toBe(true);
    }

    // The load: sign-ins, a live meeting with three tablets, a vote, ballots, an upload, a failing job.
    const chair = await connected(connectSocket(s.url, await m.as('chair')));
    sockets.push(chair);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Đo chỉ số' })).toMatchObject({ ok: true });
    const members: TestSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await connected(connectSocket(s.url, await m.as('member', i)));
      sockets.push(t);
      members.push(t);
      expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    }
    const secretary = await m.as('secretary');
    const v = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua chương trình', kind: 'motion', secret: false, majority: 'simple' });
    expect(v.status, JSON.stringify(v.body)).toBe(201);
    expect(await chair.cmd('vote:open', { voteId: v.body.id, commandId: newCommandId() })).toMatchObject({ ok: true });
    const during = await scrape();
    expect(sum(during, 'ecabinet_votes_open')).toBe(sum(before, 'ecabinet_votes_open') + 1);
    expect(sum(during, 'ecabinet_meeting_clients', { meeting: String(m.meetingId) })).toBe(4);
    expect(sum(during, 'ecabinet_socket_clients')).toBeGreaterThanOrEqual(4);
    for (const t of members) expect(await t.cmd('vote:cast', { voteId: v.body.id, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: true });
    // A refused command is counted under its error code.
    expect(await members[0].cmd('vote:cast', { voteId: v.body.id, choices: [7], commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'unknown_option' } });
    const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('alphatrans.pdf'), 'to-trinh.pdf');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    // The upload was inspected by the PDF pool: a worker is up (kept warm), nothing left queued.
    const pool = await scrape();
    expect(sum(pool, 'ecabinet_pdf_pool', { state: 'workers' })).toBeGreaterThanOrEqual(1);
    expect(sum(pool, 'ecabinet_pdf_pool', { state: 'waiting' })).toBe(0);
    // A/V: joining starts a mediasoup worker and a router for the meeting (when this machine has the worker).
    const av = s.app.ctx.health.sfu.status === 'ok';
    if (av) expect(await chair.cmd('av:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const runner = s.app.ctx.jobs;
    const kind = `test.metrics.${crypto.randomBytes(3).toString('hex')}`;
    runner.register(kind, {
      mode: 'external',
      run: async () => {
        throw new Error('deliberate failure');
      },
    });
    await enqueueJob(s.app.ctx.store.q, { kind, key: `${kind}:1`, runAt: new Date(Date.now() - 1000) });
    await until(async () => (await runner.runDue()) === 0 && (await jobsByKeyPrefix(s.app.ctx.store, `${kind}:1`, 1)).length > 0);

    const after = await scrape();
    const grew = (name: string, labels: Record<string, string> = {}) => sum(after, name, labels) - sum(before, name, labels);
    expect(grew('ecabinet_http_requests_total', { method: 'POST', route: '/api/auth/login', status: '2xx' })).toBeGreaterThanOrEqual(4);
    expect(grew('ecabinet_http_request_duration_seconds_count', { method: 'POST', route: '/api/meetings/:id/votes' })).toBe(1);
    expect(grew('ecabinet_http_request_duration_seconds_count', { method: 'POST', route: '/api/meetings/:id/agenda/items/:itemId/documents' })).toBe(1);
    // Route patterns only: no series carries a raw meeting id.
    expect([...after.keys()].filter((k) => k.startsWith('ecabinet_http') && k.includes(`/${m.meetingId}/`))).toEqual([]);
    expect(grew('ecabinet_socket_connections_total')).toBe(4);
    expect(grew('ecabinet_socket_commands_total', { event: 'vote:cast', result: 'ok' })).toBe(3);
    expect(grew('ecabinet_socket_commands_total', { event: 'vote:cast', result: 'unknown_option' })).toBe(1);
    expect(grew('ecabinet_socket_command_duration_seconds_count', { event: 'attendance:check_in' })).toBe(3);
    expect(grew('ecabinet_socket_pushes_total', { event: 'vote:changed' })).toBeGreaterThanOrEqual(4);
    expect(grew('ecabinet_ballots_total')).toBe(3);
    expect(grew('ecabinet_job_runs_total', { kind, outcome: 'retry' })).toBe(1);
    expect(grew('ecabinet_db_transaction_duration_seconds_count')).toBeGreaterThan(5);
    // The WAL flushes the ballots' acknowledgements waited for (server/db/wal-sync.ts): SQLite's fdatasync, or
    // PostgreSQL's flush after the batch's asynchronous commit.
    expect(grew('ecabinet_db_wal_fsync_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'ecabinet_db_size_bytes', { file: 'db' })).toBeGreaterThan(0);
    expect(sum(after, 'ecabinet_jobs', { status: 'pending' })).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'ecabinet_ready')).toBe(1);
    expect(sum(after, 'ecabinet_data_disk_free_bytes')).toBeGreaterThan(0);
    expect(grew('process_cpu_seconds_total')).toBeGreaterThan(0);
    if (av) {
      expect(sum(after, 'ecabinet_sfu_workers')).toBeGreaterThanOrEqual(1);
      expect(sum(after, 'ecabinet_sfu_routers')).toBe(sum(before, 'ecabinet_sfu_routers') + 1);
      expect([...after.keys()].filter((k) => k.startsWith('ecabinet_sfu_worker_cpu_seconds_total{pid=')).length).toBeGreaterThanOrEqual(1);
    }

    // Closing the vote takes it off the open count.
    expect(await chair.cmd('vote:close', { voteId: v.body.id, commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(sum(await scrape(), 'ecabinet_votes_open')).toBe(sum(before, 'ecabinet_votes_open'));
  });

  it('without a token /metrics refuses a request that came through a proxy (forwarding header), even from loopback', async () => {
    const proxied: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }];
    for (const h of proxied) {
      const r = await fetch(`${s.url}/metrics`, { headers: h });
      expect(r.status).toBe(403);
      const body = await r.json();
      expect(body.error.code).toBe('forbidden');
      expect(JSON.stringify(body)).not.toContain('ecabinet_');
    }
  });

  it('with ECABINET_METRICS_TOKEN every scrape needs the bearer token: none or a wrong one is 401, the right one is served', async () => {
    const token = crypto.randomBytes(24).toString('base64url');
    const t = await startTestServer({ seed: 'admin', config: { metrics: { token } } });
    try {
      for (const auth of [undefined, 'Bearer wrong-token-of-some-length', `Basic ${token}`, `Bearer ${token}x`]) {
        const r = await fetch(`${t.url}/metrics`, { headers: auth ? { authorization: auth } : {} });
        expect(r.status, auth).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect((await r.json()).error.code).toBe('unauthenticated');
      }
      const ok = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('ecabinet_http_requests_total');
    } finally {
      await t.close();
    }
  });

  it('/readyz is separate from /healthz: ready with its checks, and 503 naming the disk when free space is below the minimum', async () => {
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ready', checks: { db: { ok: true }, disk: { ok: true }, sfu: { ok: true } } });
    const h = await (await fetch(`${s.url}/healthz`)).json();
    expect(h.status).toBe('ok');
    const t = await startTestServer({ seed: 'admin', config: { ready: { minFreeBytes: Number.MAX_SAFE_INTEGER } } });
    try {
      const nr = await fetch(`${t.url}/readyz`);
      expect(nr.status).toBe(503);
      const body = await nr.json();
      expect(body).toMatchObject({ status: 'not_ready', checks: { db: { ok: true }, disk: { ok: false } } });
      expect(body.checks.disk.reason).toMatch(/free space/);
      // Liveness is unaffected: the process answers.
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('/readyz with a transaction open on the store: on SQLite it waits its turn and answers ready, instead of failing inside it; on PostgreSQL it answers at once (not queued behind the node\'s writers)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Another call chain's transaction, open (BEGIN IMMEDIATE ran) until released.
    const open = s.app.ctx.store.tx(async () => {
      await held;
    });
    const answer = fetch(`${s.url}/readyz`);
    const first = await Promise.race([answer.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 300))]);
    release();
    await open;
    const r = await answer;
    expect(first).toBe(s.app.ctx.store.dialect === 'sqlite' ? 'waiting' : 'answered');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ready', checks: { db: { ok: true } } });
  });

  it('meeting:join with a transaction open on the store: on PostgreSQL the live snapshot is read at once (a consistent read-only view, not queued behind the node\'s writers); on SQLite it waits its turn', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 2 });
    const member = await connected(connectSocket(s.url, await m.as('member', 0)));
    sockets.push(member);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = s.app.ctx.store.tx(async () => {
      await held;
    });
    const join = member.cmd('meeting:join', { meetingId: m.meetingId });
    const first = await Promise.race([join.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 1500))]);
    release();
    await open;
    const r = await join;
    expect(first).toBe(s.app.ctx.store.dialect === 'sqlite' ? 'waiting' : 'answered');
    // The snapshot is whole either way: the meeting's agenda and the member's place in it.
    expect(r).toMatchObject({ ok: true, data: { meetingId: m.meetingId, snapshot: { live: { agenda: expect.anything(), attendance: expect.anything() } } } });
  });
});
