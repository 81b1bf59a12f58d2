/**
 * The failover drill of issue #18: on a running local cluster (scripts/cluster.ts: HAProxy, nodes, PostgreSQL,
 * Redis), kill -9 the node that owns a meeting in the middle of a secret vote, round after round, with ballots in
 * flight, and check what a province's tablets would see: every acknowledged ballot counted once, the vote going on
 * on the new owner and closed once there, and how long the meeting did not answer.
 *
 *   const cluster = await startCluster({ nodes: 3, seed: 'admin', sfu: false, env: { ECABINET_MEETING_LEASE_MS: '2000' } });
 *   const r = await failoverDrill(cluster, { rounds: 20, voters: 12 });   // r.lost, r.duplicated, r.failoverP99S
 *
 * One meeting for the whole drill, a new vote per round: the tablets stay the same all along, as in a real sitting,
 * so every round also checks that clients which already went through N takeovers (and through a restarted node
 * coming back into HAProxy's ring while another holds the lease: the `not_owner` + owner hint path) still
 * reconnect and resynchronise; and the drill spends its time on failovers, not on building meetings.
 *
 * The voters and the chair are the web client's own RealtimeClient + MeetingChannel (client/services/socket.ts)
 * through HAProxy (`meeting=<id>` in the handshake), with automatic reconnection: on reconnect the channel joins
 * again (following `not_owner`), and a voter re-sends its ballot until acknowledged with the same commandId and
 * receipt, as ec-vote-panel does with the receipt it stored before sending.
 *
 * Each round: the chair creates and opens a vote; the voters send their ballots spread over ~0.4 s; the owner
 * (read from the lease table) gets SIGKILL at a seeded-random moment of that window (before the first ack, among
 * the acks, or after the last); the node is started again once the meeting answers on its new owner (a
 * supervisor's restart), so at least two nodes are always up. `failoverMs` is the time from the kill until the
 * first successful answer about the meeting (a join or a ballot) from a node other than the killed one.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { CommandError, MeetingChannel, RealtimeClient } from '../client/services/socket.js';
import type { JoinMeetingAck } from '../shared/protocol/realtime.js';
import { type BuiltMeeting, buildMeetingOn } from '../test/helpers/factories.js';
import { DEMO_PASSWORD, HttpClient } from '../test/helpers/server.js';
import type { Cluster } from './cluster.js';

export interface DrillOptions {
  /** Kill/failover rounds (one vote each). */
  rounds: number;
  /** Voting members (each its own signed-in tablet). */
  voters: number;
  /** Progress lines (one per round). */
  log?: (line: string) => void;
  /** Seed of the kill moments (default 1): the same seed kills at the same moments. */
  seed?: number;
  /** The seeded admin's password (default: the demo password the tests use). */
  adminPassword?: string;
  /** Longest wait for one round's recovery before it fails (default 30 s). */
  roundTimeoutMs?: number;
}

export interface DrillRound {
  round: number;
  voteId: number;
  /** The owner that was killed, and the lease epoch it held. */
  killedNode: string;
  killedEpoch: number;
  /** The owner after the failover (lease table), and its epoch. */
  newOwner: string;
  newEpoch: number;
  /** ms after the first ballot was sent that the kill came. */
  killAtMs: number;
  /** Ballots acknowledged before the kill. */
  ackedBeforeKill: number;
  /** Kill → first successful answer about the meeting from another node (ms). */
  failoverMs: number;
  /** Ballots acknowledged by the end of the round (all voters, once recovered). */
  acked: number;
  /** Ballots the closed vote counted. */
  counted: number;
  /** `vote.closed` audit rows of the vote (must be 1). */
  closes: number;
  /** The node whose socket answered the chair's close. */
  closedOn: string;
  /** The lease right after the close: its owner and epoch (an epoch above newEpoch: another takeover happened during the round). */
  ownerAtClose: string;
  epochAtClose: number;
  /** Acknowledged ballots whose receipt is missing from the published ballots. */
  lost: number;
  /** Ballots found more than once (same receipt), or more ballots than voters. */
  duplicated: number;
  /** Voters whose snapshot after the failover did not show the vote open (must be 0). */
  unsynced: number;
  /** The whole round, from waiting for the previous round's restart to the checks after the close (ms). */
  roundMs: number;
  /** Of which: waiting for a killed node to be ready again, so that two stay up after the kill (ms). */
  waitedForRestartMs: number;
  /** Answers that were neither ok nor a transient refusal (e.g. already_voted to a retry): a ballot the client cannot get through. */
  refusals: string[];
}

export interface DrillResult {
  rounds: DrillRound[];
  failoverP50S: number;
  failoverP99S: number;
  failoverMaxS: number;
  lost: number;
  duplicated: number;
  meetingId: number;
}

/** Refusals a tablet retries (the meeting is moving, or the connection dropped before the answer). */
const TRANSIENT = new Set(['not_owner', 'connection_lost', 'offline', 'timeout', 'unavailable']);

/** A seeded generator (mulberry32): the kill moments of a drill are reproducible from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string, interval = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`failover drill: timed out waiting for ${what}`);
    await sleep(interval);
  }
}

/** A percentile (nearest rank) of ms values, in seconds. */
function percentileS(ms: number[], p: number): number {
  if (!ms.length) return 0;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] / 1000;
}

/** A signed-in tablet: the web client's connection through HAProxy, joined to the meeting and kept joined. */
class Tablet {
  readonly client: RealtimeClient;
  readonly channel: MeetingChannel;
  /** Every successful join (snapshot) with when and on which node. */
  readonly joins: { at: number; node: string | null; ack: JoinMeetingAck }[] = [];
  readonly trace: string[] = [];

  constructor(url: string, http: HttpClient, meetingId: number) {
    this.client = new RealtimeClient({ url, transports: ['websocket'], extraHeaders: { cookie: http.cookie } });
    // A node-side close (step down, node killed) reconnects at once in a drill on one machine; a tablet's
    // default back-off (0.5–5 s) would measure the client's patience rather than the cluster's failover.
    this.client.socket.io.reconnectionDelay(100);
    this.client.socket.io.reconnectionDelayMax(500);
    const sock = this.client.socket as unknown as import('socket.io-client').Socket;
    const t0 = Date.now();
    const note = (s: string) => {
      this.trace.push(`${Date.now() - t0} ${s}`);
      if (this.trace.length > 40) this.trace.shift();
    };
    sock.on('connect', () => note(`connect ${this.node()}`));
    sock.on('disconnect', (r: string) => note(`disconnect ${r}`));
    sock.onAnyOutgoing((ev: string) => note(`> ${ev} on ${this.node()} connected=${sock.connected}`));
    this.channel = this.client.meeting(meetingId).onSnapshot((ack) => this.joins.push({ at: Date.now(), node: this.node(), ack }));
  }

  /** The node holding this connection (cluster mode: the Socket.IO session id starts with the node id). */
  node(): string | null {
    return this.client.socket.connected ? (this.client.socket.io.engine?.id?.split('.')[0] ?? null) : null;
  }

  get joined(): boolean {
    return this.client.socket.connected && this.channel.joined !== null;
  }

  /**
   * A command as a tablet insists on it: the same payload (commandId included) again after every transient
   * refusal, once the channel joined again. @returns the ack data, and the node that answered.
   */
  async insist<T>(event: string, payload: Record<string, unknown>, deadline: number, refusals: string[]): Promise<{ data: T; node: string | null; at: number }> {
    for (;;) {
      try {
        // An idempotent command waits through a disconnection without limit (client/services/socket.ts): a hang of
        // the cluster shows here as the round's deadline, not as a drill that never ends.
        let timer: NodeJS.Timeout | undefined;
        const data = (await Promise.race([
          this.client.command(event as never, payload as never),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`failover drill: no answer to ${event} by the round's deadline (${this.state()}) trace: ${this.trace.join(' | ')}`)), Math.max(0, deadline - Date.now()));
          }),
        ]).finally(() => clearTimeout(timer))) as T;
        return { data, node: this.node(), at: Date.now() };
      } catch (e) {
        if (e instanceof Error && e.message.includes("by the round's deadline")) {
          // Is it the server that does not answer, or the client that never sent? Ask again on the raw socket.
          const raw = this.client.socket as unknown as import('socket.io-client').Socket;
          const probe = async (ev: string, p: unknown) => JSON.stringify(await raw.timeout(3000).emitWithAck(ev, p).catch((x: Error) => x.message)).slice(0, 300);
          throw new Error(`${e.message}; clock:sync now: ${await probe('clock:sync', { commandId: crypto.randomUUID() })}; the same ${event} now: ${await probe(event, payload)}`);
        }
        const code = e instanceof CommandError ? e.code : String(e);
        if (!TRANSIENT.has(code)) {
          refusals.push(`${event}: ${code}`);
          throw e;
        }
        if (Date.now() > deadline) throw new Error(`failover drill: ${event} still refused (${code}) at the deadline`);
        // The channel re-joins (reroutes after not_owner) by itself: retry once it has, as the panel's button would.
        await until(() => this.joined || Date.now() > deadline, deadline - Date.now() + 100, 'a tablet to join again', 25);
        await sleep(50);
      }
    }
  }

  /** For a failure's message: where this tablet is. */
  state(): string {
    return `socket ${this.client.socket.connected ? `connected to ${this.node()}` : 'disconnected'}, query ${JSON.stringify(this.client.socket.io.opts.query)}, channel ${this.channel.joined ? 'joined' : 'not joined'}, last join ${this.joins.at(-1)?.node ?? '-'} ${this.joins.length ? Date.now() - this.joins.at(-1)!.at : '-'} ms ago`;
  }

  close(): void {
    this.channel.close();
    this.client.close();
  }
}

/**
 * Runs the drill on `cluster` (at least 3 nodes for the "always two up" rule; seeded with an admin), then closes
 * its tablets. Never throws on a lost or doubled ballot: it counts them (the caller asserts); throws when a round
 * cannot recover at all (a hang) with the nodes' log tails.
 */
export async function failoverDrill(cluster: Cluster, opts: DrillOptions): Promise<DrillResult> {
  if (cluster.nodes.length < 3) throw new Error('failover drill: needs at least 3 nodes (two stay up while one is down)');
  const log = opts.log ?? (() => {});
  const random = seeded(opts.seed ?? 1);
  const roundTimeout = opts.roundTimeoutMs ?? 30_000;
  const login = async (username: string, password = opts.adminPassword ?? DEMO_PASSWORD) => {
    const c = new HttpClient(cluster.url);
    const r = await c.post('/api/auth/login', { username, password });
    if (r.status !== 200) throw new Error(`failover drill: login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    return c;
  };
  const db = new pg.Client({ connectionString: cluster.pgUrl });
  await db.connect();
  const tablets: Tablet[] = [];
  const rounds: DrillRound[] = [];
  /** Nodes being started again after their kill. */
  const restarting = new Map<string, Promise<void>>();
  /** Kill → the killed node ready again (the last restart's), for the round log. */
  let restartMs = 0;
  try {
    const m: BuiltMeeting = await buildMeetingOn({ login } as never, { members: opts.voters, agendaItems: 1 });
    const meetingId = m.meetingId;
    const secretaryHttp = await m.as('secretary');
    const tablet = (http: HttpClient) => {
      const t = new Tablet(cluster.url, http, meetingId);
      tablets.push(t);
      return t;
    };
    const setupDeadline = () => Date.now() + roundTimeout;
    const refusals: string[] = [];
    const chair = tablet(await m.as('chair'));
    const secretary = tablet(secretaryHttp);
    const voters = await Promise.all(m.members.map(async (u) => ({ user: u, t: tablet(await m.login(u)) })));
    await until(() => tablets.every((t) => t.joined), roundTimeout, 'every tablet to join the meeting');
    for (const v of voters) await secretary.insist('attendance:check_in', { meetingId, userId: v.user.id, mode: 'in_room', commandId: crypto.randomUUID() }, setupDeadline(), refusals);
    await chair.insist('meeting:open', { meetingId, commandId: crypto.randomUUID() }, setupDeadline(), refusals);
    // The secretary's part is done: one tablet fewer reconnecting every round.
    secretary.close();
    tablets.splice(tablets.indexOf(secretary), 1);

    const owner = async () => {
      const r = await db.query<{ node_id: string; epoch: number; live: boolean }>('SELECT node_id, epoch, expires_at > now() AS live FROM meeting_owners WHERE meeting_id = $1', [meetingId]);
      return r.rows[0] ? { nodeId: r.rows[0].node_id, epoch: Number(r.rows[0].epoch), live: r.rows[0].live } : null;
    };

    for (let round = 1; round <= opts.rounds; round++) {
      await runRound(round).catch(async (e: Error) => {
        const o = await owner().catch(() => null);
        // What the database is doing: a hang is most often a transaction waiting on a lock.
        // Sessions are named after their node (application_name); blocked_by: the sessions each one waits for.
        const activity = await db
          .query(
            "SELECT pid, application_name, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by, round(extract(epoch FROM now() - xact_start)::numeric, 1) AS xact_s, round(extract(epoch FROM now() - state_change)::numeric, 1) AS state_s, left(query, 160) AS query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'",
          )
          .then((r) => r.rows.map((x) => JSON.stringify(x)).join('\n'), (err: unknown) => String(err));
        // Who holds what others wait for: every lock some session waits on, and every lock held by a session someone waits for.
        const locks = await db
          .query(
            `WITH blocked AS (SELECT pid, pg_blocking_pids(pid) AS by FROM pg_stat_activity WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0)
             SELECT l.pid, a.application_name, l.locktype, l.mode, l.granted, l.relation::regclass::text AS relation, l.objid, l.transactionid::text AS xid, (SELECT by FROM blocked b WHERE b.pid = l.pid) AS blocked_by
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE a.datname = current_database() AND l.locktype <> 'virtualxid' AND (l.relation IS NULL OR l.relation::regclass::text NOT LIKE 'pg_%')
                AND (NOT l.granted OR l.pid IN (SELECT unnest(by) FROM blocked) OR l.locktype = 'advisory')
              ORDER BY l.pid`,
          )
          .then((r) => r.rows.map((x) => JSON.stringify(x)).join('\n') || '(no session waits on a lock)', (err: unknown) => String(err));
        throw new Error(`round ${round}: ${e.message}\nlease: ${JSON.stringify(o)}\ndatabase sessions at work:\n${activity}\nlocks waited for, and their holders:\n${locks}\n${tailLogs(cluster)}`);
      });
    }
    async function runRound(round: number) {
      const roundStart = Date.now();
      // At least two nodes stay up: before a kill, wait for restarts until one more than that is up (with three
      // nodes: the previous round's node is back; with more, the rounds go on while a node restarts). A failed
      // restart fails the drill here.
      while (cluster.nodes.length - restarting.size < 3) await Promise.race(restarting.values());
      const waitedForRestartMs = Date.now() - roundStart;
      const deadline = Date.now() + roundTimeout;
      const roundRefusals: string[] = [];
      const created = await chair.insist<{ vote: { id: number } }>(
        'vote:create',
        { meetingId, vote: { title: `Biểu quyết kín ${round}`, kind: 'motion', secret: true }, commandId: crypto.randomUUID() },
        deadline,
        roundRefusals,
      );
      const voteId = created.data.vote.id;
      await chair.insist('vote:open', { voteId, commandId: crypto.randomUUID() }, deadline, roundRefusals);
      const before = await owner();
      if (!before?.live) throw new Error(`failover drill: round ${round}: meeting ${meetingId} has no live owner after opening the vote`);
      const ballots = voters.map((v, i) => ({
        i,
        t: v.t,
        payload: { voteId, choices: (i + round) % 3 === 0 ? [1] : [0], receipt: crypto.randomBytes(16).toString('base64url'), commandId: crypto.randomUUID() },
        ack: null as null | { node: string | null; at: number },
        error: null as unknown,
      }));

      // The ballots leave over ~0.4 s. The kill comes, by a seeded draw, as the first ballot leaves (before any
      // ack), at a random moment among them, or after the last should have been acknowledged.
      const spreadMs = 400;
      const phase = Math.floor(random() * 3);
      const killAtMs = phase === 0 ? 0 : phase === 1 ? Math.round(random() * spreadMs) : spreadMs + 200 + Math.round(random() * 300);
      const started = Date.now();
      const casting = ballots.map(async (b) => {
        await sleep(Math.round((b.i / Math.max(1, ballots.length - 1)) * spreadMs));
        try {
          b.ack = await b.t.insist('vote:cast', b.payload, deadline, roundRefusals);
        } catch (e) {
          b.error = e;
        }
      });
      await sleep(Math.max(0, started + killAtMs - Date.now()));
      const killedAt = Date.now();
      cluster.kill(before.nodeId, 'SIGKILL');
      const ackedBeforeKill = ballots.filter((b) => b.ack && b.ack.at <= killedAt).length;

      // The meeting answers again: the first join snapshot or ballot ack after the kill from another node.
      const answered = await until(
        () => {
          const at: number[] = [];
          for (const t of tablets) for (const j of t.joins) if (j.at > killedAt && j.node && j.node !== before.nodeId) at.push(j.at);
          for (const b of ballots) if (b.ack && b.ack.at > killedAt && b.ack.node && b.ack.node !== before.nodeId) at.push(b.ack.at);
          return at.length ? Math.min(...at) : 0;
        },
        roundTimeout,
        `round ${round}: the meeting to answer on another node after ${before.nodeId} was killed`,
      );
      const failoverMs = answered - killedAt;
      // A supervisor restarts the dead node; it rejoins HAProxy's ring while the meeting stays with its new owner.
      const killed = before.nodeId;
      restarting.set(
        killed,
        until(() => cluster.nodes.find((n) => n.id === killed)?.pid === null, 10_000, `${killed} to exit`)
          .then(() => cluster.restartNode(killed))
          .then(() => {
            restartMs = Date.now() - killedAt;
            restarting.delete(killed);
          }),
      );

      await Promise.all(casting);
      const failed = ballots.filter((b) => b.error);
      if (failed.length) throw new Error(`${failed.length} ballot(s) never acknowledged; voter ${failed[0].i}: ${failed[0].error instanceof Error ? failed[0].error.message : String(failed[0].error)}`);
      const acked = ballots.filter((b) => b.ack).length;
      // Resynchronised: every voter's latest snapshot, taken after the kill, shows this vote open with the ballots so far.
      await until(() => voters.every((v) => v.t.joins.some((j) => j.at > killedAt)) || ballots.every((b) => b.ack), roundTimeout, 'every voter to join again');
      const unsynced = voters.filter((v) => {
        const j = v.t.joins.filter((x) => x.at > killedAt).at(-1);
        if (!j) return false; // a voter whose connection survived (its node was not the killed one): nothing to resync
        const vote = (j.ack.snapshot as { votes?: { votes: { id: number; state: string; voted: number }[] } }).votes?.votes.find((x) => x.id === voteId);
        return !vote || vote.state !== 'open';
      }).length;
      const after = await owner();
      const closed = await chair.insist<{ vote: { state: string; result: { voted: number } | null; voted: number } }>('vote:close', { voteId, commandId: crypto.randomUUID() }, deadline, roundRefusals);

      // The owner when the close was answered (a loaded node may lose a short lease once more meanwhile: the
      // close must still be answered by whoever holds it, never by the killed node).
      const atClose = await owner();
      const receipts = (await secretaryHttp.get(`/api/votes/${voteId}/receipts`)).body as { ballots?: { key: string; choices: number[] }[] };
      const keys = new Map<string, number>();
      for (const r of receipts.ballots ?? []) keys.set(r.key, (keys.get(r.key) ?? 0) + 1);
      let lost = 0;
      let duplicated = 0;
      for (const b of ballots) {
        const n = keys.get(crypto.createHash('sha256').update(`${voteId}:${b.payload.receipt}`).digest('hex')) ?? 0;
        if (b.ack && n === 0) lost++;
        if (n > 1) duplicated += n - 1;
      }
      const counted = closed.data.vote.result?.voted ?? closed.data.vote.voted;
      // Ballots the published list does not explain by a voter of this round (cannot happen unless counted twice).
      duplicated += Math.max(0, (receipts.ballots?.length ?? 0) - ballots.length);
      const closes = Number((await db.query("SELECT count(*) AS n FROM audit_log WHERE action = 'vote.closed' AND target_id = $1", [String(voteId)])).rows[0].n);
      refusals.push(...roundRefusals);
      const r: DrillRound = {
        round,
        voteId,
        killedNode: before.nodeId,
        killedEpoch: before.epoch,
        newOwner: after?.nodeId ?? '(none)',
        newEpoch: after?.epoch ?? 0,
        killAtMs,
        ackedBeforeKill,
        failoverMs,
        acked,
        counted,
        closes,
        closedOn: closed.node ?? '(unknown)',
        ownerAtClose: atClose?.nodeId ?? '(none)',
        epochAtClose: atClose?.epoch ?? 0,
        lost,
        duplicated,
        unsynced,
        roundMs: Date.now() - roundStart,
        waitedForRestartMs,
        refusals: roundRefusals,
      };
      rounds.push(r);
      log(
        `round ${round}: killed ${r.killedNode} (epoch ${r.killedEpoch}) ${killAtMs} ms into the ballots, ${ackedBeforeKill}/${ballots.length} acked; ` +
          `${r.newOwner} (epoch ${r.newEpoch}) answered after ${failoverMs} ms; acked ${acked}, counted ${counted}, closes ${closes} on ${r.closedOn}; round ${r.roundMs} ms (waited ${waitedForRestartMs} ms for a restart, last restart took ${restartMs} ms)` +
          `${lost || duplicated || unsynced || roundRefusals.length ? `; LOST ${lost} DUPLICATED ${duplicated} UNSYNCED ${unsynced} refusals ${roundRefusals.join(', ')}` : ''}`,
      );
    }
    await Promise.all(restarting.values());
    const ms = rounds.map((r) => r.failoverMs);
    return {
      rounds,
      failoverP50S: percentileS(ms, 50),
      failoverP99S: percentileS(ms, 99),
      failoverMaxS: ms.length ? Math.max(...ms) / 1000 : 0,
      lost: rounds.reduce((s, r) => s + r.lost, 0),
      duplicated: rounds.reduce((s, r) => s + r.duplicated, 0),
      meetingId,
    };
  } finally {
    for (const t of tablets) t.close();
    await Promise.allSettled(restarting.values());
    await db.end();
  }
}

function tailLogs(cluster: Cluster): string {
  return cluster.nodes.map((n) => `--- ${n.id} (pid ${n.pid ?? 'down'}):\n${cluster.logTail(n.id, 60)}`).join('\n');
}
