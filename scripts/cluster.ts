/**
 * `npm run cluster`: E-Cabinet as several nodes on this machine (issue #18), for trying it out and for the
 * tests of test/cluster/: a throwaway PostgreSQL (scripts/pg-throwaway.sh), a redis-server on a free loopback
 * port, HAProxy in front (scripts/cluster-haproxy.ts), and N node processes (`node --import tsx server/main.ts`)
 * sharing the database, Redis and one data folder. Ctrl-C stops and deletes all of it.
 *
 *   npm run cluster [-- --nodes 3] [-- --port 8080]   start; prints the URL to open
 *   npm run cluster -- status                          nodes up/down and where each meeting is served
 *
 * Programmatic: `startCluster({ nodes: 3 })` (the cluster tests).
 * Needs Debian's postgresql, redis-server and haproxy (scripts/install-system-deps.sh, or
 * `apt-get install -y --no-install-recommends postgresql redis-server haproxy`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listOwners } from '../server/cluster/cluster.service.js';
import { openDatabase } from '../server/db/open.js';
import { haproxyConfig } from './cluster-haproxy.js';
import { freePort, holdPort } from './free-port.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
/** Where a running `npm run cluster` says what it started, for `npm run cluster -- status` from another terminal. */
export const STATE_FILE = path.join(os.tmpdir(), 'ecabinet-cluster.json');

export interface ClusterOptions {
  /** Node processes (default 3). */
  nodes?: number;
  /** HAProxy's port (default: a free one). */
  port?: number;
  /** An existing empty PostgreSQL database to use instead of starting a throwaway server (tests). */
  databaseUrl?: string;
  /** The first node seeds an empty database: `auto` = the demo committee and meeting, `admin` = the admin account only. */
  seed?: 'auto' | 'admin';
  /** Audio/video on every node (default on when the mediasoup worker is installed; each node gets its own RTC port range). */
  sfu?: boolean;
  /** More environment for every node (e.g. ECABINET_MEETING_LEASE_MS). */
  env?: Record<string, string>;
}

export interface ClusterNode {
  id: string;
  url: string;
  port: number;
  /** The running process, or null while the node is down. */
  pid: number | null;
}

export interface NodeStatus {
  id: string;
  url: string;
  pid: number | null;
  /** What the node's own /readyz says (no answer: false). */
  ready: boolean;
  /** HAProxy's view from its health checks: UP, DOWN, … */
  haproxy: string;
}

export interface MeetingStatus {
  meetingId: number;
  title: string;
  status: string;
  /** The node HAProxy sends this meeting's connections to now (asked through HAProxy itself). */
  routedTo: string | null;
  /** The meeting's lease (server/cluster): the node that runs it, its epoch, ms until it expires (≤ 0: expired); null when no node has taken it yet. */
  owner: { nodeId: string; epoch: number; expiresInMs: number } | null;
}

export interface ClusterStatus {
  url: string;
  nodes: NodeStatus[];
  meetings: MeetingStatus[];
}

export interface Cluster {
  /** HAProxy: what users open. */
  url: string;
  statsUrl: string;
  nodes: ClusterNode[];
  pgUrl: string;
  redisUrl: string;
  /** The data folder every node shares (the file store). */
  dataDir: string;
  /** The temp folder holding configuration, logs and the data folder. */
  dir: string;
  /** Signals a node's process (SIGKILL, SIGSTOP, SIGCONT, SIGTERM). */
  kill(nodeId: string, signal?: NodeJS.Signals): void;
  /** Starts a node that was killed again, on its port; resolves once it is ready. */
  restartNode(nodeId: string): Promise<void>;
  status(): Promise<ClusterStatus>;
  /** The last lines a node wrote (for a failing test's message). */
  logTail(nodeId: string, lines?: number): string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL (unless given), Redis, the nodes one after the other, then HAProxy; resolves once HAProxy sees every node up. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error('nodes: 1 to 16');
  await requireCommand('haproxy', 'HAProxy');
  await requireCommand('redis-server', 'Redis');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-cluster-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.mkdirSync(dataDir);
  const undo: (() => Promise<void>)[] = [];
  const procs = new Map<string, ChildProcess>();
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      for (const fn of undo.reverse()) await fn().catch((err: unknown) => process.stderr.write(`cluster: stopping: ${String(err)}\n`));
      fs.rmSync(dir, { recursive: true, force: true });
    })());
  try {
    let pgUrl = opts.databaseUrl;
    if (!pgUrl) {
      const pg = await startThrowawayPg();
      undo.push(pg.stop);
      pgUrl = pg.url;
    }

    const redisPort = await freePort();
    const redis = spawnLogged('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], path.join(dir, 'logs', 'redis.log'), process.env);
    undo.push(() => ended(redis, 'SIGTERM'));
    await untilRedisAnswers(redisPort, redis);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const sfu = opts.sfu ?? true;
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= count; i++) {
      const port = await freePort();
      nodes.push({ id: `n${i}`, port, url: `http://127.0.0.1:${port}`, pid: null });
    }
    // Held until HAProxy starts: the nodes (started first) must know its URL, and many connections are made meanwhile.
    const held = [...(opts.port === undefined ? [await holdPort()] : []), await holdPort()];
    undo.push(async () => {
      for (const h of held) await h.release();
    });
    const haproxyPort = opts.port ?? held[0].port;
    const statsPort = held.at(-1)!.port;
    const url = `http://127.0.0.1:${haproxyPort}`;
    const nodeEnv = (node: ClusterNode, index: number, seed: string): NodeJS.ProcessEnv => ({
      ...process.env,
      // HAProxy (on this host, `option forwardfor`) is the only peer whose X-Forwarded-For names the client:
      // the exact address, not all of loopback, so a client on this machine cannot forge its own.
      ECABINET_TRUST_PROXY: '127.0.0.1',
      ...opts.env,
      PORT: String(node.port),
      HOST: '127.0.0.1',
      DATABASE_URL: pgUrl,
      REDIS_URL: redisUrl,
      ECABINET_NODE_ID: node.id,
      ECABINET_DATA_DIR: dataDir,
      ECABINET_SEED: seed,
      APP_URL: url,
      ECABINET_SFU: sfu ? 'auto' : 'off',
      // Each node's mediasoup workers get their own RTC ports: the nodes share one machine here.
      ECABINET_RTC_MIN_PORT: String(40000 + index * 1000),
      ECABINET_RTC_MAX_PORT: String(40000 + index * 1000 + 999),
    });
    const startNode = async (node: ClusterNode, index: number, seed: string) => {
      const child = spawnLogged(process.execPath, ['--import', 'tsx', 'server/main.ts'], path.join(dir, 'logs', `${node.id}.log`), nodeEnv(node, index, seed));
      procs.set(node.id, child);
      node.pid = child.pid ?? null;
      child.once('exit', () => {
        if (procs.get(node.id) === child) node.pid = null;
      });
      await untilReady(node, child, () => logTail(node.id));
    };
    const logTail = (nodeId: string, lines = 40) => {
      try {
        return fs.readFileSync(path.join(dir, 'logs', `${nodeId}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    };
    undo.push(async () => {
      await Promise.all([...procs.values()].map((p) => ended(p, 'SIGTERM')));
    });
    // The first node alone migrates the empty database and seeds it once; the others find it done.
    await startNode(nodes[0], 0, opts.seed ?? 'auto');
    await Promise.all(nodes.slice(1).map((n, i) => startNode(n, i + 1, 'never')));

    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      haproxyConfig({ bind: `127.0.0.1:${haproxyPort}`, statsBind: `127.0.0.1:${statsPort}`, adminSocket: path.join(dir, 'haproxy.sock'), nodes: nodes.map((n) => ({ id: n.id, host: '127.0.0.1', port: n.port })) }),
    );
    await run('haproxy', ['-c', '-q', '-f', cfg]).catch((err: { stderr?: string }) => {
      throw new Error(`haproxy refused its configuration: ${err.stderr ?? String(err)}`);
    });
    for (const h of held) await h.release();
    const haproxy = spawnLogged('haproxy', ['-db', '-f', cfg], path.join(dir, 'logs', 'haproxy.log'), process.env);
    undo.push(() => ended(haproxy, 'SIGTERM'));
    const statsUrl = `http://127.0.0.1:${statsPort}`;
    await until(async () => {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${fs.readFileSync(path.join(dir, 'logs', 'haproxy.log'), 'utf8')}`);
      const states = await haproxyStates(statsUrl).catch(() => new Map<string, string>());
      return nodes.every((n) => states.get(n.id) === 'UP');
    }, 30_000, 'HAProxy to see every node up');

    return {
      url,
      statsUrl,
      nodes,
      pgUrl,
      redisUrl,
      dataDir,
      dir,
      kill(nodeId, signal = 'SIGKILL') {
        const p = procs.get(nodeId);
        if (!p?.pid) throw new Error(`no running node ${nodeId}`);
        process.kill(p.pid, signal);
      },
      async restartNode(nodeId) {
        const index = nodes.findIndex((n) => n.id === nodeId);
        if (index < 0) throw new Error(`no node ${nodeId}`);
        const old = procs.get(nodeId);
        if (old && old.exitCode === null && old.signalCode === null) {
          // A node told to stop (SIGTERM) may still be handing its meetings over: its exit is waited for, not refused.
          const exited = await Promise.race([
            new Promise<boolean>((resolve) => {
              old.once('exit', () => resolve(true));
              if (old.exitCode !== null || old.signalCode !== null) resolve(true);
            }),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
          ]);
          if (!exited) throw new Error(`node ${nodeId} is still running`);
        }
        await startNode(nodes[index], index, 'never');
      },
      status: () => clusterStatus({ url, statsUrl, pgUrl, nodes }),
      logTail,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Nodes as each answers and as HAProxy sees them, and for every open meeting its owner (lease) and the node HAProxy routes it to. */
export async function clusterStatus(c: { url: string; statsUrl: string; pgUrl: string; nodes: ClusterNode[] }): Promise<ClusterStatus> {
  const states = await haproxyStates(c.statsUrl).catch(() => new Map<string, string>());
  const nodes = await Promise.all(
    c.nodes.map(async (n) => ({
      id: n.id,
      url: n.url,
      pid: n.pid,
      ready: await fetch(`${n.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false),
      haproxy: states.get(n.id) ?? 'unknown',
    })),
  );
  const pg = (await import('pg')).default;
  const db = new pg.Client({ connectionString: c.pgUrl });
  await db.connect();
  let rows: { id: number; title: string; status: string }[];
  try {
    rows = (await db.query<{ id: number; title: string; status: string }>("select id, title, status from meetings where status <> 'closed' order by id limit 200")).rows;
  } finally {
    await db.end();
  }
  // The database is migrated by the nodes already: opening it here applies nothing.
  const database = await openDatabase({ dataDir: os.tmpdir(), database: { url: c.pgUrl, poolSize: 1 } });
  const owners = await listOwners(database.store).finally(() => database.close());
  // The truth about routing is HAProxy's own hash: ask it with a request shaped like a meeting's Yjs
  // connection (hashed on `meeting`, answered by whichever node it picks, which names itself).
  const meetings = await Promise.all(
    rows.map(async (m) => ({
      meetingId: Number(m.id),
      title: m.title,
      status: m.status,
      routedTo: await fetch(`${c.url}/yjs/?meeting=${m.id}`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.headers.get('x-ecabinet-node'),
        () => null,
      ),
      owner: ((o) => (o ? { nodeId: o.nodeId, epoch: o.epoch, expiresInMs: o.expiresInMs } : null))(owners.find((o) => o.meetingId === Number(m.id))),
    })),
  );
  return { url: c.url, nodes, meetings };
}

/** Server name → status (UP, DOWN, NOLB, MAINT…) in the meeting backend, from HAProxy's stats CSV. */
async function haproxyStates(statsUrl: string): Promise<Map<string, string>> {
  const csv = await (await fetch(`${statsUrl}/;csv`, { signal: AbortSignal.timeout(1000) })).text();
  const [header, ...lines] = csv.trim().split('\n');
  const cols = header.replace(/^# /, '').split(',');
  const px = cols.indexOf('pxname');
  const sv = cols.indexOf('svname');
  const st = cols.indexOf('status');
  const states = new Map<string, string>();
  for (const line of lines) {
    const f = line.split(',');
    if (f[px] === 'by_meeting' && f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND') states.set(f[sv], f[st].split(' ')[0]);
  }
  return states;
}

async function startThrowawayPg(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = path.join(ROOT, 'scripts', 'pg-throwaway.sh');
  const out = (await run('bash', [script, 'start'], { timeout: 60_000 })).stdout;
  const url = /^DATABASE_URL=(.+)$/m.exec(out)?.[1];
  const dir = /^PG_THROWAWAY_DIR=(.+)$/m.exec(out)?.[1];
  if (!url || !dir) throw new Error(`pg-throwaway.sh start printed no DATABASE_URL: ${out}`);
  return { url, stop: async () => void (await run('bash', [script, 'stop', dir], { timeout: 60_000 })) };
}

async function requireCommand(cmd: string, what: string): Promise<void> {
  await run('sh', ['-c', `command -v ${cmd}`]).catch(() => {
    throw new Error(`${what} is not installed (${cmd}): apt-get install -y --no-install-recommends redis-server haproxy`);
  });
}

/** A child in its own process group (Ctrl-C reaches only us; we stop the children in order), output to a log file. */
function spawnLogged(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  try {
    return spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    fs.closeSync(fd);
  }
}

/** Signals a child (resuming it first if stopped) and waits for its exit; SIGKILL after 10 s. */
async function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGCONT');
    process.kill(child.pid, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function untilReady(node: ClusterNode, child: ChildProcess, tail: () => string): Promise<void> {
  await until(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`node ${node.id} exited during start (${child.exitCode ?? child.signalCode}):\n${tail()}`);
    return fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  }, 120_000, `node ${node.id} to be ready`);
}

async function untilRedisAnswers(port: number, child: ChildProcess): Promise<void> {
  await until(async () => {
    if (child.exitCode !== null) throw new Error('redis-server exited during start');
    return new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.once('error', () => resolve(false));
    });
  }, 10_000, 'redis-server');
}

async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


function printStatus(s: ClusterStatus): void {
  const out = [`E-Cabinet cluster at ${s.url}`, '', 'node  ready  haproxy  pid      url'];
  for (const n of s.nodes) out.push(`${n.id.padEnd(5)} ${(n.ready ? 'yes' : 'no').padEnd(6)} ${n.haproxy.padEnd(8)} ${String(n.pid ?? '-').padEnd(8)} ${n.url}`);
  out.push('', 'meeting  status     owner (lease)          routed to  title');
  for (const m of s.meetings) {
    const owner = m.owner ? `${m.owner.nodeId} e${m.owner.epoch} ${m.owner.expiresInMs > 0 ? `${(m.owner.expiresInMs / 1000).toFixed(1)} s` : 'expired'}` : '-';
    out.push(`${String(m.meetingId).padEnd(8)} ${m.status.padEnd(10)} ${owner.padEnd(22)} ${(m.routedTo ?? '(none)').padEnd(10)} ${m.title}`);
  }
  if (!s.meetings.length) out.push('(no open meetings)');
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(args: string[]): Promise<void> {
  if (args[0] === 'status') {
    if (!fs.existsSync(STATE_FILE)) throw new Error(`no cluster is running (${STATE_FILE} missing): start one with npm run cluster`);
    const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as Parameters<typeof clusterStatus>[0];
    printStatus(await clusterStatus(state));
    return;
  }
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || !/^[1-9][0-9]{0,5}$/.test(v)) throw new Error(`${name} takes a positive whole number`);
    return Number(v);
  };
  const unknown = args.filter((a, i) => !['--nodes', '--port'].includes(a) && !['--nodes', '--port'].includes(args[i - 1]));
  if (unknown.length) throw new Error(`unknown arguments ${unknown.join(' ')}: npm run cluster [-- --nodes N] [-- --port P] | npm run cluster -- status`);
  process.stdout.write('e-cabinet cluster: starting PostgreSQL, Redis, the nodes and HAProxy…\n');
  const cluster = await startCluster({ nodes: flag('--nodes') ?? 3, port: flag('--port') });
  const saveState = () => fs.writeFileSync(STATE_FILE, JSON.stringify({ url: cluster.url, statsUrl: cluster.statsUrl, pgUrl: cluster.pgUrl, nodes: cluster.nodes }));
  saveState();
  // Keeps the pids in the status file current (a node that died shows as down).
  const saver = setInterval(saveState, 2000);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(saver);
    process.stdout.write('\ne-cabinet cluster: stopping…\n');
    fs.rmSync(STATE_FILE, { force: true });
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdout.write(
    [
      '',
      `  E-Cabinet cluster: ${cluster.url}   (HAProxy in front of ${cluster.nodes.length} nodes)`,
      `  Nodes:      ${cluster.nodes.map((n) => `${n.id} ${n.url}`).join(', ')}`,
      `  HAProxy:    statistics at ${cluster.statsUrl}`,
      `  PostgreSQL: ${cluster.pgUrl}   Redis: ${cluster.redisUrl}`,
      `  Files:      ${cluster.dataDir} (shared by every node); logs in ${path.join(cluster.dir, 'logs')}`,
      '  Demo users: admin, secretary, chair, member1 … member12 (password ecabinet-demo unless ECABINET_DEMO_PASSWORD)',
      '  Who serves which meeting: npm run cluster -- status   Stop: Ctrl-C',
      '',
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
