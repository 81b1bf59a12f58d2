/**
 * Child process of the votes bench: the whole E-Cabinet server on a fresh data directory (and, with
 * DATABASE_URL, on that PostgreSQL database), with `VOTERS` bench users written straight into the
 * database (users, sessions, participants of one live meeting, checked in) so a thousand logins do
 * not dominate the setup. Reports over IPC:
 * { port, meetingId, voterCookies, chairCookie }.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const voters = Number(process.argv[2] ?? 1000);
const { loadConfig } = await import('../../server/config.js');
const { createLogger } = await import('../../server/log.js');
const { startServer } = await import('../../server/server.js');
const { hubOptions } = await import('../../server/realtime/hub.js');
const { voteOptions } = await import('../../server/votes/votes.service.js');
if (process.env.PROGRESS_MS) voteOptions.progressIntervalMs = Number(process.env.PROGRESS_MS);
// BALLOT_SYNC=NORMAL measures the cost of FULL (fsync per ballot commit) against WAL's default.
if (process.env.BALLOT_SYNC === 'NORMAL' || process.env.BALLOT_SYNC === 'FULL') voteOptions.ballotSync = process.env.BALLOT_SYNC;
void hubOptions;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-bench-votes-'));
const config = loadConfig(
  { NODE_ENV: 'test', DATABASE_URL: process.env.DATABASE_URL ?? '', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ECABINET_DEMO_PASSWORD: 'ecabinet-demo' },
  { loginLimits: { perAccount: 1000, perIp: 100_000 } },
);
const running = await startServer(config, createLogger('silent'));
const { store } = running;
const t = await import('../../server/db/tables.js');
const { and, count, eq } = await import('drizzle-orm');
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
const now = new Date().toISOString();

// Written through the store (either database): one transaction, rows in batches.
const [chair] = await store.q.select({ id: t.users.id, hash: t.users.passwordHash }).from(t.users).where(eq(t.users.username, 'chair'));
const [committee] = await store.q.select({ id: t.committees.id }).from(t.committees).limit(1);
const voterCookies: string[] = [];
let chairCookie = '';
const meetingId = await store.tx(async (q) => {
  const [m] = await q
    .insert(t.meetings)
    .values({ committeeId: committee.id, title: 'Đại hội biểu quyết (bench)', startsAt: now, endsAt: new Date(Date.now() + 3600_000).toISOString(), quorumRule: { kind: 'majority' }, status: 'live', publishedAt: now })
    .returning({ id: t.meetings.id });
  const sessions: (typeof t.sessions.$inferInsert)[] = [];
  const session = (userId: number) => {
    const token = crypto.randomBytes(32).toString('base64url');
    sessions.push({ tokenHash: sha256(token), userId, expiresAt: expires });
    return `ec_sid=${token}`;
  };
  const ids = [chair.id];
  for (let i = 0; i < voters; i += 500) {
    const rows = await q
      .insert(t.users)
      .values(Array.from({ length: Math.min(500, voters - i) }, (_, k) => ({ username: `bench${i + k}`, passwordHash: chair.hash, fullName: `Đại biểu ${i + k + 1}` })))
      .returning({ id: t.users.id });
    ids.push(...rows.map((r) => r.id));
  }
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    await q.insert(t.meetingParticipants).values(batch.map((id) => ({ meetingId: m.id, userId: id, role: id === chair.id ? ('chair' as const) : ('member' as const), canVote: true, invitedAt: now })));
    await q.insert(t.attendance).values(batch.map((id) => ({ meetingId: m.id, userId: id, status: 'in_room' as const, recordedBy: id, updatedAt: now })));
  }
  chairCookie = session(chair.id);
  for (const id of ids.slice(1)) voterCookies.push(session(id));
  for (let i = 0; i < sessions.length; i += 500) await q.insert(t.sessions).values(sessions.slice(i, i + 500));
  return m.id;
});
/** Ballots of a vote counted in the database: the fewer of its secret ballots and its participation rows. */
async function counted(voteId: number): Promise<number> {
  const [n] = await store.q.select({ n: count() }).from(t.voteSecretBallots).where(eq(t.voteSecretBallots.voteId, voteId));
  const [p] = await store.q.select({ n: count() }).from(t.voteParticipation).where(and(eq(t.voteParticipation.voteId, voteId)));
  return Math.min(Number(n.n), Number(p.n));
}

if (process.env.VOTES_DEBUG) {
  running.app.ctx.realtime!.io.on('connection', (socket) => {
    socket.use((packet, next) => {
      const ack = packet.at(-1);
      if (packet[0] === 'vote:cast' && typeof ack === 'function') {
        const t = performance.now();
        packet[packet.length - 1] = (...a: unknown[]) => {
          process.stderr.write(`hub ${(performance.now() - t).toFixed(1)}ms\n`);
          ack(...a);
        };
      }
      next();
    });
  });
}
if (process.env.VOTES_TRACE) {
  // Which pushes the server sends and how long each blocks the event loop (diagnostics only).
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const hub = running.app.ctx.realtime!;
  const orig = hub.broadcast.bind(hub);
  hub.broadcast = (m, e, d) => {
    const t = performance.now();
    orig(m, e, d);
    process.stderr.write(`broadcast ${e} ${(performance.now() - t).toFixed(1)}ms\n`);
  };
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  setInterval(() => {
    if (h.max > 5e6) process.stderr.write(`loop delay max ${(h.max / 1e6).toFixed(1)}ms p99 ${(h.percentile(99) / 1e6).toFixed(1)}ms\n`);
    h.reset();
  }, 1000).unref();
}
process.send!({ port: running.port, meetingId, voterCookies, chairCookie });
// VOTES_PROF=<file>: CPU profile of the measured rounds only (the bench sends prof start/stop); on PostgreSQL
// (DB=postgres runs both) into <file> with `-pg` before its extension, so the SQLite run does not overwrite it.
const inspector = process.env.VOTES_PROF ? new (await import('node:inspector')).Session() : null;
inspector?.connect();
const post = (method: string, params?: object) => new Promise<any>((res, rej) => inspector!.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r))));
process.on('message', async (m: { count?: number; prof?: 'start' | 'stop' }) => {
  if (m.prof && inspector) {
    if (m.prof === 'start') await post('Profiler.enable').then(() => post('Profiler.start'));
    else {
      const file = process.env.DATABASE_URL ? process.env.VOTES_PROF!.replace(/(\.[^./]*)?$/, '-pg$1') : process.env.VOTES_PROF!;
      fs.writeFileSync(file, JSON.stringify((await post('Profiler.stop')).profile));
    }
    process.send!({ prof: m.prof });
  }
  if (m.count) process.send!({ counted: await counted(m.count) });
});
process.on('disconnect', () => {
  running.close().finally(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
