/**
 * Yjs fan-out load harness: N clients editing one document through a y-websocket server, measuring
 * how long an update takes to reach the other clients. Most clients are THIN (precomputed update
 * frames sent at a fixed rate, incoming frames only counted) so the load generator stays cheap; a
 * few FULL probes (a real Y.Doc speaking y-protocols) connect last and measure latency from a
 * probe's send to its receipt by every other probe.
 *
 * - `measureYjsFanout(opts)` → `{ yjs_p99_ms, yjs_baseline_p99_ms, yjs_p99_ratio }`: our hub (the whole
 *   E-Cabinet server: auth at upgrade, SQLite persistence) vs y-websocket 2.1.0's stock server
 *   utilities, each in its own child process, in the same run. Used by bench/live.ts.
 * - `runYjsLoad(url, opts)` and `startBenchServer(mode)` are the reusable parts (annotations: 60
 *   tablets at 2 and 10 strokes/s with their own `payload` and `docName`).
 * Standalone: `node --import tsx bench/lib/yjs-fanout.ts [--clients 50 --rate 4 --duration 6000]`
 * prints details, then the JSON summary as its last line.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

export interface YjsLoadOptions {
  /** Connections in total (thin clients + probes). */
  clients: number;
  /** Full Y.Doc probes among them (≥ 2: latency is measured between probes). */
  probes: number;
  /** Updates per second sent by every client. */
  rate: number;
  /** How long clients send. */
  durationMs: number;
  /** Latency samples sent during the first `warmupMs` are discarded. */
  warmupMs: number;
  /** Document name after `/yjs/`. */
  docName: string;
  /** Makes ONE local change on a client's doc (one change = one update frame). */
  payload: (doc: Y.Doc, client: number, seq: number) => void;
  /** Cookie header of client `i` ('' for none). */
  cookie: (client: number) => string;
}

export interface YjsLoadResult {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  samples: number;
  sent: number;
  received: number;
  /** Connections that closed before the end (refusals, limits). */
  unexpected_closes: number;
  /** Raw latency samples (ms), sorted; for pooling rounds. */
  latencies: number[];
}

/** Default change: a typist appending 8 characters to a `bench` Y.Text. */
export const typingPayload = (doc: Y.Doc) => {
  const t = doc.getText('bench');
  t.insert(t.length, 'abcdefgh');
};

const MSG_SYNC = 0;
const MARK = Buffer.from('~p', 'latin1');

function updateFrame(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_SYNC);
  syncProtocol.writeUpdate(e, update);
  return encoding.toUint8Array(e);
}

function connect(url: string, cookie: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: cookie ? { cookie } : {}, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed ${code} before open`)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Drives `opts.clients` connections against `baseUrl` + `/yjs/<docName>` and returns latency
 * percentiles measured between the probes. The server must accept every client's cookie with
 * write access (read-only connections would have their updates dropped and never arrive).
 */
export async function runYjsLoad(baseUrl: string, partial: Partial<YjsLoadOptions> = {}): Promise<YjsLoadResult> {
  const o: YjsLoadOptions = {
    clients: 50,
    probes: 5,
    rate: 4,
    durationMs: 2500,
    warmupMs: 500,
    docName: 'bench:doc',
    payload: typingPayload,
    cookie: () => '',
    ...partial,
  };
  const url = `${baseUrl.replace(/^http/, 'ws')}/yjs/${encodeURIComponent(o.docName)}`;
  const thinCount = o.clients - o.probes;
  const perClient = Math.ceil((o.rate * o.durationMs) / 1000) + 1;
  let unexpectedCloses = 0;
  let stopping = false;

  // Precomputed frames: each thin client's own doc, its updates captured in order. They only
  // reference the client's own items, so they apply to the shared doc whatever others do.
  const thin = Array.from({ length: thinCount }, (_, i) => {
    const doc = new Y.Doc();
    const frames: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => frames.push(updateFrame(u)));
    for (let s = 0; s < perClient; s++) doc.transact(() => o.payload(doc, i, s));
    doc.destroy();
    return { frames, ws: null as WebSocket | null, next: 0, received: 0 };
  });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let measureFrom = Infinity;
  // Thin clients recognise probe changes by the marker key's bytes (`~p<client>:<seq>~`) in the
  // frame: a native buffer search, no Yjs decoding, so they measure fan-out to every client.
  const record = (data: Buffer) => {
    const at = data.indexOf(MARK);
    if (at < 0) return;
    const endAt = data.indexOf(0x7e, at + 2);
    if (endAt < 0) return;
    const t = sentAt.get(data.toString('latin1', at, endAt + 1));
    if (t !== undefined && t >= measureFrom) latencies.push(performance.now() - t);
  };
  for (let i = 0; i < thinCount; i++) {
    const ws = await connect(url, o.cookie(i));
    ws.on('message', (data: Buffer) => {
      thin[i].received++;
      record(data);
    });
    ws.on('close', () => {
      if (!stopping) unexpectedCloses++;
    });
    thin[i].ws = ws;
  }

  // Probes: full docs; each probe change also sets `__bench[~p<client>:<seq>~]`, observed by the others.
  const probes = await Promise.all(
    Array.from({ length: o.probes }, async (_, p) => {
      const client = thinCount + p;
      const doc = new Y.Doc();
      const ws = await connect(url, o.cookie(client));
      const probe = { doc, ws, seq: 0, received: 0 };
      ws.on('close', () => {
        if (!stopping) unexpectedCloses++;
      });
      ws.on('message', (data: Buffer) => {
        probe.received++;
        const dec = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (decoding.readVarUint(dec) !== MSG_SYNC) return;
        const enc = encoding.createEncoder();
        encoding.writeVarUint(enc, MSG_SYNC);
        syncProtocol.readSyncMessage(dec, enc, doc, 'remote');
        if (encoding.length(enc) > 1) ws.send(encoding.toUint8Array(enc));
      });
      doc.getMap<number>('__bench').observe((ev) => {
        if (ev.transaction.origin !== 'remote') return;
        const now = performance.now();
        for (const key of ev.keysChanged) {
          const t = sentAt.get(key);
          if (t !== undefined && t >= measureFrom) latencies.push(now - t);
        }
      });
      doc.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin !== 'remote' && ws.readyState === WebSocket.OPEN) ws.send(updateFrame(u));
      });
      return probe;
    }),
  );

  // One pacing loop for everyone: client i sends its k-th change at start + i·(period/clients) + k·period.
  const period = 1000 / o.rate;
  const start = performance.now() + 50;
  measureFrom = start + o.warmupMs;
  const end = start + o.durationMs;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      for (let i = 0; i < o.clients; i++) {
        const offset = start + (i * period) / o.clients;
        if (i < thinCount) {
          const c = thin[i];
          while (c.next < c.frames.length && offset + c.next * period <= now && offset + c.next * period < end) {
            if (c.ws!.readyState === WebSocket.OPEN) c.ws!.send(c.frames[c.next]);
            c.next++;
            sent++;
          }
        } else {
          const p = probes[i - thinCount];
          while (offset + p.seq * period <= now && offset + p.seq * period < end) {
            const key = `~p${i}:${p.seq}~`;
            const seq = p.seq++;
            sentAt.set(key, performance.now());
            p.doc.transact(() => {
              o.payload(p.doc, i, seq);
              p.doc.getMap<number>('__bench').set(key, seq);
            });
            sent++;
          }
        }
      }
      if (now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  // Let the last probe changes arrive (each should reach every other client).
  const expected = [...sentAt.values()].filter((t) => t >= measureFrom).length * (o.clients - 1);
  const deadline = performance.now() + 5000;
  while (latencies.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  stopping = true;
  const received = thin.reduce((n, c) => n + c.received, 0) + probes.reduce((n, p) => n + p.received, 0);
  for (const c of thin) c.ws!.terminate();
  for (const p of probes) {
    p.ws.terminate();
    p.doc.destroy();
  }
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies.at(-1) ?? NaN),
    samples: latencies.length,
    sent,
    received,
    unexpected_closes: unexpectedCloses,
    latencies,
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Starts a server under test in a child process: `hub` (E-Cabinet, fresh seeded data dir) or
 * `stock` (y-websocket 2.1.0 utilities). Returns its base URL and a close function.
 */
export async function startBenchServer(mode: 'hub' | 'stock'): Promise<{ url: string; cpuMs(): Promise<number>; close(): Promise<void> }> {
  const child: ChildProcess = fork(path.join(here, 'yjs-fanout-server.ts'), [mode], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    /** The server process's CPU time so far (user + system), in ms. */
    cpuMs: () =>
      new Promise<number>((resolve) => {
        const onMessage = (m: { cpu?: { user: number; system: number } }) => {
          if (!m.cpu) return;
          child.off('message', onMessage);
          resolve((m.cpu.user + m.cpu.system) / 1000);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.disconnect();
      }),
  };
}

async function login(url: string, username: string, password: string): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`bench login ${username}: ${r.status}`);
  return (r.headers.get('set-cookie') ?? '').split(';')[0];
}

export interface YjsFanoutOptions extends Partial<Omit<YjsLoadOptions, 'cookie' | 'docName'>> {
  /** Users the hub clients sign in as (cycled), all needing write access to the document. */
  users?: string[];
  password?: string;
  /** Document on our hub; default: the notes of the demo meeting's agenda items (one per round). */
  docName?: string;
  /** Rounds, each running both servers one after the other in alternating order. Figure = median of round p99s. */
  rounds?: number;
  /** Called with details of both sides (the summary stays exactly three keys). */
  onDetails?: (details: { hub: Summary; stock: Summary; options: Record<string, unknown> }) => void;
}

type Summary = Omit<YjsLoadResult, 'latencies'> & { round_p99_ms?: number[]; cpu_ms_per_1000_updates?: number };

function median(xs: number[]): number {
  // A round without samples (a stalled machine) has no p99: leave it out.
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round(((s[m - 1] + s[m]) / 2) * 100) / 100;
}

function pool(results: YjsLoadResult[]): Summary {
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    p50_ms: round(percentile(all, 50)),
    p99_ms: round(percentile(all, 99)),
    max_ms: round(all.at(-1) ?? NaN),
    samples: all.length,
    sent: results.reduce((n, r) => n + r.sent, 0),
    received: results.reduce((n, r) => n + r.received, 0),
    unexpected_closes: results.reduce((n, r) => n + r.unexpected_closes, 0),
  };
}

/**
 * Issue 4's Yjs figure: `clients` editing one document through our hub (auth + persistence on)
 * vs the stock y-websocket 2.1.0 server, same load, same run, both servers in child processes,
 * `rounds` alternating rounds; each side's figure is the median of its round p99s. Returns exactly
 * `{ yjs_p99_ms, yjs_baseline_p99_ms, yjs_p99_ratio }` (target ratio ≤ 1.5).
 */
export async function measureYjsFanout(opts: YjsFanoutOptions = {}): Promise<{ yjs_p99_ms: number; yjs_baseline_p99_ms: number; yjs_p99_ratio: number }> {
  const { users = ['secretary', 'admin'], password = 'ecabinet-demo', onDetails, docName: givenDoc, rounds = 8, ...load } = opts;
  const [stockServer, hubServer] = await Promise.all([startBenchServer('stock'), startBenchServer('hub')]);
  const hubRuns: YjsLoadResult[] = [];
  const stockRuns: YjsLoadResult[] = [];
  const hubCpu: number[] = [];
  const stockCpu: number[] = [];
  try {
    const cookies = await Promise.all(users.map((u) => login(hubServer.url, u, password)));
    let docNames = givenDoc ? [givenDoc] : [];
    if (!givenDoc) {
      const r = await fetch(`${hubServer.url}/api/meetings/1/agenda`, { headers: { cookie: cookies[0] } });
      const agenda = (await r.json()) as { items: { id: number }[] };
      docNames = agenda.items.map((i) => `meeting:1:item:${i.id}:notes`);
    }
    for (let r = 0; r < rounds; r++) {
      const docName = docNames[r % docNames.length];
      // Alternating order (stock, hub, hub, stock, …) so drift on a shared machine hits both alike.
      // Server CPU time per update is insensitive to what else runs on the machine: reported too.
      const measured = async (server: typeof hubServer, runs: YjsLoadResult[], cpu: number[], opts: Partial<YjsLoadOptions>) => {
        const c0 = await server.cpuMs();
        runs.push(await runYjsLoad(server.url, opts));
        cpu.push((await server.cpuMs()) - c0);
      };
      const runStock = () => measured(stockServer, stockRuns, stockCpu, { ...load, docName: `${docName}:${r}` });
      const runHub = () => measured(hubServer, hubRuns, hubCpu, { ...load, docName, cookie: (i) => cookies[i % cookies.length] });
      if (r % 2 === 0) {
        await runStock();
        await runHub();
      } else {
        await runHub();
        await runStock();
      }
    }
  } finally {
    await Promise.all([stockServer.close(), hubServer.close()]);
  }
  const hub = pool(hubRuns);
  const stock = pool(stockRuns);
  // The figure: median over rounds of each round's p99 (one stalled round does not decide it).
  const hubP99 = median(hubRuns.map((r) => r.p99_ms));
  const stockP99 = median(stockRuns.map((r) => r.p99_ms));
  const perThousand = (cpu: number[], runs: YjsLoadResult[]) => Math.round((cpu.reduce((a, b) => a + b, 0) / runs.reduce((n, r) => n + r.sent, 0)) * 1000 * 10) / 10;
  onDetails?.({
    hub: { ...hub, round_p99_ms: hubRuns.map((r) => r.p99_ms), cpu_ms_per_1000_updates: perThousand(hubCpu, hubRuns) },
    stock: { ...stock, round_p99_ms: stockRuns.map((r) => r.p99_ms), cpu_ms_per_1000_updates: perThousand(stockCpu, stockRuns) },
    options: { clients: 50, probes: 5, rate: 4, durationMs: 2500, warmupMs: 500, rounds, ...load },
  });
  const ratio = Math.round((hubP99 / stockP99) * 100) / 100;
  return { yjs_p99_ms: hubP99, yjs_baseline_p99_ms: stockP99, yjs_p99_ratio: ratio };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const opts: YjsFanoutOptions = {};
  if (arg('clients')) opts.clients = arg('clients');
  if (arg('rate')) opts.rate = arg('rate');
  if (arg('duration')) opts.durationMs = arg('duration');
  if (arg('probes')) opts.probes = arg('probes');
  if (arg('rounds')) opts.rounds = arg('rounds');
  const summary = await measureYjsFanout({ ...opts, onDetails: (d) => console.log(JSON.stringify(d)) });
  console.log(JSON.stringify(summary));
  process.exit(0);
}
