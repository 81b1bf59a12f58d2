/**
 * Votes at scale: 1,000 authenticated voters connected to one live meeting cast a secret ballot
 * within one second, against a side-by-side anchor in the same run: the same clients' bare Socket.IO
 * emit-with-ack round trip (`clock:sync`, which goes through the same hub wrapper but touches no
 * database), with the same arrival pattern.
 *
 * The server under test runs in a child process (bench/lib/votes-server.ts) with the users, sessions,
 * participants and check-ins written straight into its SQLite; the load generator (this process)
 * holds the 1,001 socket.io-client connections (1,000 voters + the chair).
 *
 * After WARMUP unmeasured rounds, rounds alternate bare / vote (ROUNDS each). Per vote round:
 * - ack latency: emit of `vote:cast` → its acknowledgement (sent only after the ballot's commit);
 * - final count: the last ballot's emit → the chair receiving `vote:progress` with every ballot counted;
 * - all voted (OpenSlides' load metric "all clients have voted in X ms"): first emit → last ack;
 * - progress messages each voter received while the vote was being cast, per second.
 * Summary keys: voters, counted, acks_per_s, ack_p50_ms, ack_p99_ms, bare_ack_p99_ms, ack_p99_ratio,
 * final_count_ms, all_voted_ms, progress_msgs_per_client_per_s — for 1,000 voters, then the same keys
 * prefixed `v2000_` for a second, separate server with 2,000 voters (OpenSlides' largest reported
 * assemblies), all in one final JSON line. Targets: ack_p99_ratio ≤ 2, final_count_ms ≤ 250.
 * DB=postgres npm run bench -- votes: the same on PostgreSQL, then SQLite (`sqlite_` keys) and `ack_p99_vs_sqlite`.
 *   Both durable before the ack: SQLite with ballotSync FULL (the WAL fsynced before each acknowledgement),
 *   PostgreSQL started by scripts/bench.sh with fsync, full_page_writes and synchronous_commit on (its commit
 *   returns once flushed), as production runs; the settings are printed at the start of its run.
 *   npm run bench -- votes [--voters N (only that electorate) --rounds 3 --warmup 1 --spread 1000 --join N]
 * Diagnostics: VOTES_TRACE=1 (pushes and event-loop stalls on stderr), VOTES_PROF=<file.cpuprofile>
 * (CPU profile of the server during the measured rounds), VOTES_NODE_ARGS="--trace-gc" (flags for the server's node).
 */
import { type ChildProcess, fork } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../shared/protocol/realtime.js';
import { freshPgDatabase, pgDurability } from './lib/pg.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
/** Electorates measured in one run: 1,000 (unprefixed keys) and 2,000 (keys prefixed `v2000_`), or just --voters N. */
const ELECTORATES = process.argv.includes('--voters') ? [arg('voters', 1000)] : [1000, 2000];
const ROUNDS = arg('rounds', 3);
const SPREAD_MS = arg('spread', 1000);
/** Unmeasured rounds first (JIT, statement caches, socket buffers), as usual for a benchmark. */
const WARMUP = arg('warmup', 1);
const JOIN_ARG = arg('join', Infinity);

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * DB=postgres (scripts/bench.sh starts a throwaway PostgreSQL): each electorate on PostgreSQL (the unprefixed keys)
 * and then on SQLite in the same run (keys prefixed `sqlite_`), with `ack_p99_vs_sqlite` = PostgreSQL's ack p99 /
 * SQLite's (issue #17's target: ≤ 1.5, and ack_p99_ratio ≤ 2 on both).
 */
const DIALECTS: ('postgres' | 'sqlite')[] = process.env.DB === 'postgres' ? ['postgres', 'sqlite'] : ['sqlite'];

/** One complete measurement with `VOTERS` voters on a fresh server; resolves with the summary keys. */
async function run(VOTERS: number, dialect: 'postgres' | 'sqlite'): Promise<Record<string, number>> {
  const JOIN = Math.min(JOIN_ARG, VOTERS);
  const env = { ...process.env, DATABASE_URL: dialect === 'postgres' ? await freshPgDatabase() : '' };
  const child: ChildProcess = fork(path.join(here, 'lib/votes-server.ts'), [String(VOTERS)], { env, execArgv: ['--import', 'tsx', ...(process.env.VOTES_NODE_ARGS ? process.env.VOTES_NODE_ARGS.split(' ') : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const setup = await new Promise<{ port: number; meetingId: number; voterCookies: string[]; chairCookie: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as never));
    child.once('exit', (c) => reject(new Error(`bench server exited ${c}`)));
  });
  const url = `http://127.0.0.1:${setup.port}`;
  const log = (...a: unknown[]) => console.log(...a);
  log(`votes bench (${dialect}): ${VOTERS} voters, ${ROUNDS} rounds, arrivals spread over ${SPREAD_MS} ms, server pid ${child.pid}`);
  if (dialect === 'postgres') log(`  PostgreSQL: ${await pgDurability(env.DATABASE_URL)}`);

  type Ack = { ok: boolean; data?: any; error?: { code: string } };
  const connect = (cookie: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = io(url, { path: SOCKET_PATH, transports: ['websocket'], extraHeaders: { cookie }, auth: { protocolVersion: PROTOCOL_VERSION }, reconnection: true, timeout: 60_000 });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  /**
   * emit-with-ack; on a loaded machine a socket may hit a ping timeout and reconnect: the command is then
   * resent with the same payload (and commandId, so a ballot still counts once). Latency includes that.
   */
  async function cmd(s: Socket, event: string, payload: unknown): Promise<Ack> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!s.connected) await new Promise<void>((r) => s.once('connect', () => r()));
        return (await s.timeout(60_000).emitWithAck(event, payload)) as Ack;
      } catch (e) {
        if (attempt >= 3) throw e;
        reconnects++;
      }
    }
  }
  let reconnects = 0;

  const t0 = performance.now();
  const chair = await connect(setup.chairCookie);
  await cmd(chair, 'meeting:join', { meetingId: setup.meetingId });
  chair.io.on('reconnect', () => void cmd(chair, 'meeting:join', { meetingId: setup.meetingId }));
  const voters: Socket[] = [];
  // Joining is the slow part of the setup (each meeting:join computes every domain's snapshot of a
  // 1,001-participant meeting, and presence fans out to the room): small batches keep the server responsive.
  for (let i = 0; i < VOTERS; i += 100) voters.push(...(await Promise.all(setup.voterCookies.slice(i, i + 100).map(connect))));
  for (let i = 0; i < JOIN; i += 25) {
    await Promise.all(voters.slice(i, Math.min(i + 25, JOIN)).map((s) => cmd(s, 'meeting:join', { meetingId: setup.meetingId })));
    if (i % 200 === 0) log(`  joined ${i + 25} at ${Math.round(performance.now() - t0)} ms`);
  }
  let disconnects = 0;
  voters.forEach((s, i) => {
    s.on('disconnect', () => disconnects++);
    // A voter in the room rejoins after a reconnect, as the app's MeetingChannel does.
    if (i < JOIN) s.io.on('reconnect', () => void cmd(s, 'meeting:join', { meetingId: setup.meetingId }));
  });
  log(`connected ${voters.length} voters, ${JOIN} of them joined to the meeting room, in ${Math.round(performance.now() - t0)} ms`);

  // Progress messages received by voters, with arrival times.
  const progressTimes: number[][] = voters.map(() => []);
  voters.forEach((s, i) => s.on('vote:progress', () => progressTimes[i].push(performance.now())));

  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  };
  const r1 = (x: number) => Math.round(x * 10) / 10;

  /** VOTES_TRACE: how long this process (the 1,001 clients) kept its own loop busy during each wave. */
  const clientLoop = process.env.VOTES_TRACE ? monitorEventLoopDelay({ resolution: 1 }) : null;
  clientLoop?.enable();

  /** Every client emits once at its offset in [0, SPREAD_MS); resolves with latencies and timings. */
  async function wave(send: (s: Socket, i: number) => Promise<Ack>) {
    const offsets = voters.map((_, i) => (i * SPREAD_MS) / VOTERS);
    for (let i = offsets.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [offsets[i], offsets[j]] = [offsets[j], offsets[i]];
    }
    const lat: number[] = new Array(VOTERS);
    const sentAt: number[] = new Array(VOTERS);
    const ackAt: number[] = new Array(VOTERS);
    let failures = 0;
    const start = performance.now();
    clientLoop?.reset();
    await Promise.all(
      voters.map(
        (s, i) =>
          new Promise<void>((resolve) => {
            setTimeout(async () => {
              sentAt[i] = performance.now();
              const a = await send(s, i);
              ackAt[i] = performance.now();
              lat[i] = ackAt[i] - sentAt[i];
              if (!a.ok) failures++;
              resolve();
            }, offsets[i]);
          }),
      ),
    );
    if (clientLoop) console.error(`  load generator's event loop in this wave: delay max ${r1(clientLoop.max / 1e6)} ms, p99 ${r1(clientLoop.percentile(99) / 1e6)} ms`);
    return { lat, first: Math.min(...sentAt), last: Math.max(...sentAt), lastAck: Math.max(...ackAt), failures, start };
  }

  const bareLat: number[] = [];
  const voteLat: number[] = [];
  const rounds: { acks_per_s: number; final_count_ms: number; all_voted_ms: number; progress_per_s: number; counted: number; failures: number }[] = [];

  const profile = async (what: 'start' | 'stop') => {
    if (!process.env.VOTES_PROF) return;
    child.send({ prof: what });
    await new Promise((resolve) => child.once('message', resolve));
  };
  for (let r = -WARMUP; r < ROUNDS; r++) {
    if (r === 0) await profile('start');
    const bare = await wave((s) => cmd(s, 'clock:sync', {}));
    if (bare.failures) throw new Error(`${bare.failures} bare round trips failed`);
    if (r >= 0) bareLat.push(...bare.lat);

    const created = await cmd(chair, 'vote:create', { meetingId: setup.meetingId, vote: { title: `Biểu quyết kín ${r + 1}`, kind: 'motion', secret: true }, commandId: crypto.randomUUID() });
    if (!created.ok) throw new Error(`vote:create ${JSON.stringify(created)}`);
    const voteId = created.data.vote.id as number;
    let finalAt = 0;
    // The chair has a vote too (1,001 eligible) and casts it first, unmeasured: "every ballot counted" is then
    // every eligible voter's, which the server pushes at once. (Before, the chair never voted, the at-once push
    // never came, and the figure was wherever the next coalesced push fell: 10–50 ms when the wave ended just
    // before one, ~500 ms when it ended just after.)
    const onProgress = (p: { data: { voteId: number; voted: number } }) => {
      if (p.data.voteId === voteId && p.data.voted === VOTERS + 1 && !finalAt) finalAt = performance.now();
    };
    chair.on('vote:progress', onProgress);
    const opened = await cmd(chair, 'vote:open', { voteId, commandId: crypto.randomUUID() });
    if (!opened.ok) throw new Error(`vote:open ${JSON.stringify(opened)}`);
    const chairCast = await cmd(chair, 'vote:cast', { voteId, choices: [0], receipt: crypto.randomBytes(16).toString('base64url'), commandId: crypto.randomUUID() });
    if (!chairCast.ok) throw new Error(`chair's vote:cast ${JSON.stringify(chairCast)}`);
    const receipts = voters.map(() => crypto.randomBytes(16).toString('base64url'));
    const before = progressTimes.map((t) => t.length);
    const v = await wave((s, i) => cmd(s, 'vote:cast', { voteId, choices: i % 4 === 0 ? [1] : i % 10 === 1 ? [] : [0], receipt: receipts[i], commandId: crypto.randomUUID() }));
    const deadline = performance.now() + 10_000;
    while (!finalAt && performance.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    chair.off('vote:progress', onProgress);
    if (r >= 0) voteLat.push(...v.lat);
    // Progress messages each voter got from its first ballot to the final count.
    const windowEnd = finalAt || performance.now();
    const windowS = Math.max(1, windowEnd - v.first) / 1000;
    const perClient = progressTimes.slice(0, JOIN).map((t, i) => t.slice(before[i]).filter((x) => x >= v.first - 1 && x <= windowEnd + 1).length / windowS);
    const closed = await cmd(chair, 'vote:close', { voteId, commandId: crypto.randomUUID() });
    if (!closed.ok) throw new Error(`vote:close ${JSON.stringify(closed)}`);
    const res = closed.data.vote.result;
    child.send({ count: voteId });
    const stored = await new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { counted: number }).counted)));
    const round = {
      acks_per_s: Math.round(VOTERS / ((v.lastAck - v.first) / 1000)),
      final_count_ms: r1((finalAt || Infinity) - v.last),
      all_voted_ms: r1(v.lastAck - v.first),
      progress_per_s: r1(perClient.reduce((a, b) => a + b, 0) / perClient.length),
      // The voters' ballots (the chair's is the one more).
      counted: Math.min(stored, res.voted + res.abstentions) - 1,
      failures: v.failures,
    };
    if (r >= 0) rounds.push(round);
    log(
      `${r < 0 ? 'warm-up' : `round ${r + 1}`}: bare p99 ${r1(pct(bare.lat, 99))} ms | cast p50 ${r1(pct(v.lat, 50))} p99 ${r1(pct(v.lat, 99))} ms, ${round.acks_per_s} acks/s, ` +
        `all voted ${round.all_voted_ms} ms, final count ${round.final_count_ms} ms after the last ballot, ${round.progress_per_s} progress msgs/client/s, ` +
        `counted ${round.counted} (${res.counts.join('/')} + ${res.abstentions} abst., ${res.outcome}), failures ${v.failures}, disconnects so far ${disconnects}, resent commands ${reconnects}`,
    );
  }

  await profile('stop');
  const summary = {
    voters: VOTERS,
    counted: Math.min(...rounds.map((r) => r.counted)),
    acks_per_s: Math.min(...rounds.map((r) => r.acks_per_s)),
    ack_p50_ms: r1(pct(voteLat, 50)),
    ack_p99_ms: r1(pct(voteLat, 99)),
    bare_ack_p99_ms: r1(pct(bareLat, 99)),
    ack_p99_ratio: Math.round((pct(voteLat, 99) / pct(bareLat, 99)) * 100) / 100,
    final_count_ms: Math.max(...rounds.map((r) => r.final_count_ms)),
    all_voted_ms: Math.max(...rounds.map((r) => r.all_voted_ms)),
    progress_msgs_per_client_per_s: Math.max(...rounds.map((r) => r.progress_per_s)),
  };
  log(`(worst of ${ROUNDS} rounds for counted, acks_per_s, final_count_ms, all_voted_ms, progress; latencies pooled over rounds)`);
  for (const s of [chair, ...voters]) s.close();
  clientLoop?.disable();
  child.disconnect();
  await new Promise((resolve) => child.once('exit', resolve));
  return summary;
}

const all: Record<string, number> = {};
for (const dialect of DIALECTS) {
  const dbPrefix = dialect === 'sqlite' && DIALECTS.length > 1 ? 'sqlite_' : '';
  for (const n of ELECTORATES) {
    const summary = await run(n, dialect);
    const prefix = dbPrefix + (n === 1000 || ELECTORATES.length === 1 ? '' : `v${n}_`);
    for (const [k, v] of Object.entries(summary)) all[prefix + k] = v;
  }
}
if (DIALECTS.length > 1) {
  for (const n of ELECTORATES) {
    const p = n === 1000 || ELECTORATES.length === 1 ? '' : `v${n}_`;
    all[`${p}ack_p99_vs_sqlite`] = Math.round((all[`${p}ack_p99_ms`] / all[`sqlite_${p}ack_p99_ms`]) * 100) / 100;
  }
}
console.log(JSON.stringify(all));
process.exit(0);
