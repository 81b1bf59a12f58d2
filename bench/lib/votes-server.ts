/**
 * Child process of the votes bench: the whole E-Cabinet server on a fresh data directory, with
 * `VOTERS` bench users created directly in SQLite (users, sessions, participants of one live
 * meeting, checked in) so a thousand logins do not dominate the setup. Reports over IPC:
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
  { NODE_ENV: 'test', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ECABINET_DEMO_PASSWORD: 'ecabinet-demo' },
  { loginLimits: { perAccount: 1000, perIp: 100_000 } },
);
const running = await startServer(config, createLogger('silent'));
const sqlite = running.db.$client;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
const now = new Date().toISOString();

const chairId = sqlite.prepare("SELECT id FROM users WHERE username = 'chair'").pluck().get() as number;
const committeeId = sqlite.prepare('SELECT id FROM committees LIMIT 1').pluck().get() as number;
const hash = sqlite.prepare("SELECT password_hash FROM users WHERE username = 'chair'").pluck().get() as string;
const voterCookies: string[] = [];
let meetingId = 0;
let chairCookie = '';
sqlite.transaction(() => {
  meetingId = Number(
    sqlite
      .prepare("INSERT INTO meetings (committee_id, title, starts_at, ends_at, quorum_rule, status, published_at) VALUES (?, 'Đại hội biểu quyết (bench)', ?, ?, '{\"kind\":\"majority\"}', 'live', ?)")
      .run(committeeId, now, new Date(Date.now() + 3600_000).toISOString(), now).lastInsertRowid,
  );
  const addUser = sqlite.prepare("INSERT INTO users (username, password_hash, full_name) VALUES (?, ?, ?)");
  const addSession = sqlite.prepare('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)');
  const addParticipant = sqlite.prepare('INSERT INTO meeting_participants (meeting_id, user_id, role, can_vote, invited_at) VALUES (?, ?, ?, ?, ?)');
  const checkIn = sqlite.prepare("INSERT INTO attendance (meeting_id, user_id, status, recorded_by, updated_at) VALUES (?, ?, 'in_room', ?, ?)");
  const session = (userId: number) => {
    const token = crypto.randomBytes(32).toString('base64url');
    addSession.run(sha256(token), userId, expires);
    return `ec_sid=${token}`;
  };
  addParticipant.run(meetingId, chairId, 'chair', 1, now);
  checkIn.run(meetingId, chairId, chairId, now);
  chairCookie = session(chairId);
  for (let i = 0; i < voters; i++) {
    const id = Number(addUser.run(`bench${i}`, hash, `Đại biểu ${i + 1}`).lastInsertRowid);
    addParticipant.run(meetingId, id, 'member', 1, now);
    checkIn.run(meetingId, id, id, now);
    voterCookies.push(session(id));
  }
})();

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
// VOTES_PROF=<file>: CPU profile of the measured rounds only (the bench sends prof start/stop).
const inspector = process.env.VOTES_PROF ? new (await import('node:inspector')).Session() : null;
inspector?.connect();
const post = (method: string, params?: object) => new Promise<any>((res, rej) => inspector!.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r))));
process.on('message', async (m: { count?: number; prof?: 'start' | 'stop' }) => {
  if (m.prof && inspector) {
    if (m.prof === 'start') await post('Profiler.enable').then(() => post('Profiler.start'));
    else fs.writeFileSync(process.env.VOTES_PROF!, JSON.stringify((await post('Profiler.stop')).profile));
    process.send!({ prof: m.prof });
  }
  if (m.count) {
    const n = sqlite.prepare('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?').pluck().get(m.count) as number;
    const p = sqlite.prepare('SELECT count(*) FROM vote_participation WHERE vote_id = ?').pluck().get(m.count) as number;
    process.send!({ counted: Math.min(n, p) });
  }
});
process.on('disconnect', () => {
  running.close().finally(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
