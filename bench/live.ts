/**
 * `npm run bench -- live` — issue 4's figures for the realtime hub.
 *
 * 1. Socket.IO fan-out: CLIENTS authenticated participants joined to one live meeting; the chair
 *    changes the current agenda item ROUNDS times (`agenda:goto`, alternating two items); latency =
 *    time from the chair sending the command to each client's receipt of `agenda:changed` (the
 *    server validates, authorizes, writes the change in SQLite, then broadcasts). Anchor, same run:
 *    a bare Socket.IO server whose `agenda:goto` broadcasts a payload of the same frame size to the
 *    same number of clients, with no auth, validation or database. Blocks of rounds alternate
 *    between the two so drift on a shared machine hits both alike.
 * 2. Server heap per connected client: the slope of heapUsed (after forced GCs, in the server's own
 *    process) between CLIENTS/2 and CLIENTS joined clients.
 * 3. Yjs: bench/lib/yjs-fanout.ts (50 clients editing one document, our hub vs y-websocket 2.1.0).
 *
 * The many clients are THIN: raw WebSockets speaking Engine.IO 4 / Socket.IO 5 frames precomputed as
 * strings (a receipt is recognised by its prefix, not parsed), so the load generator stays cheap;
 * two full socket.io-client probes check that real clients receive every change too.
 * Both servers run in child processes (bench/lib/live-server.ts). Last line: the JSON summary.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { freshPgDatabase } from './lib/pg.js';

const CLIENTS = Number(process.env.LIVE_CLIENTS ?? 500);
const ROUNDS = Number(process.env.LIVE_ROUNDS ?? 200);
const WARMUP = 10;
const BLOCK = 50;
const here = path.dirname(fileURLToPath(import.meta.url));
const runId = Date.now().toString(36);

interface ServerInfo {
  port: number;
  meetingId: number;
  cookies: string[];
  chairCookie: string;
  itemIds: number[];
}

interface Child {
  proc: ChildProcess;
  info: ServerInfo;
  ask<T>(msg: object): Promise<T>;
}

async function startChild(mode: 'live' | 'bare'): Promise<Child> {
  const proc = fork(path.join(here, 'lib/live-server.ts'), [mode, String(CLIENTS)], {
    // DB=postgres (scripts/bench.sh starts a throwaway PostgreSQL): the live server on a fresh database of it.
    env: { ...process.env, DATABASE_URL: mode === 'live' && process.env.DB === 'postgres' ? await freshPgDatabase() : '' },
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as ServerInfo));
    proc.once('exit', (c) => reject(new Error(`${mode} server exited with ${c}`)));
  });
  return {
    proc,
    info,
    ask: <T>(msg: object) =>
      new Promise<T>((resolve) => {
        proc.once('message', (m) => resolve(m as T));
        proc.send(msg);
      }),
  };
}

/** A thin Socket.IO client: handshake, pong, join, and a timestamp per `agenda:changed` frame. */
class Thin {
  ws!: WebSocket;
  received = 0;
  lastAt = 0;
  lastBytes = 0;
  acksFailed = 0;
  #ack = 0;
  #joined!: () => void;
  onChanged: ((t: number) => void) | null = null;

  constructor(
    readonly port: number,
    readonly cookie: string,
    readonly meetingId: number,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#joined = resolve;
      this.ws = new WebSocket(`ws://127.0.0.1:${this.port}/socket.io/?EIO=4&transport=websocket`, { headers: this.cookie ? { cookie: this.cookie } : {} });
      this.ws.on('error', reject);
      this.ws.on('message', (data: Buffer) => this.#onFrame(data));
    });
  }

  #onFrame(data: Buffer) {
    const c0 = data[0];
    const c1 = data[1];
    if (c0 === 0x34 && c1 === 0x32 && data[2] === 0x5b && data.toString('latin1', 3, 19) === '"agenda:changed"') {
      // 42["agenda:changed", …
      const t = performance.now();
      this.received++;
      this.lastAt = t;
      this.lastBytes = data.length;
      this.onChanged?.(t);
    } else if (c0 === 0x32 && data.length === 1) this.ws.send('3'); // ping → pong
    else if (c0 === 0x30) this.ws.send('40{"protocolVersion":1}'); // engine open → socket.io connect
    else if (c0 === 0x34 && c1 === 0x30) this.ws.send(`420["meeting:join",{"meetingId":${this.meetingId}}]`);
    else if (c0 === 0x34 && c1 === 0x34) throw new Error(`connect refused: ${data.toString()}`);
    else if (c0 === 0x34 && c1 === 0x33) {
      const s = data.toString();
      if (s.startsWith('430[')) {
        if (!s.includes('"ok":true')) throw new Error(`join failed: ${s.slice(0, 200)}`);
        this.#joined();
      } else if (!s.includes('"ok":true')) this.acksFailed++;
    }
  }

  /**
   * Sends `agenda:goto` with an ack id and a fresh `commandId`, as the app's client does (so the
   * server also records the command for idempotence). The ack is checked, not awaited.
   */
  goto(itemId: number) {
    this.#ack++;
    this.ws.send(`42${this.#ack}["agenda:goto",{"meetingId":${this.meetingId},"itemId":${itemId},"commandId":"bench-${runId}-${this.#ack}"}]`);
  }

  close() {
    this.ws.close();
  }
}

async function connectAll(child: Child, from: number, to: number): Promise<Thin[]> {
  const out: Thin[] = [];
  for (let i = from; i < to; i += 25) {
    const batch = Array.from({ length: Math.min(25, to - i) }, (_, k) => new Thin(child.info.port, child.info.cookies[i + k] ?? '', child.info.meetingId));
    await Promise.all(batch.map((t) => t.open()));
    out.push(...batch);
  }
  return out;
}

/** One round: chair sends, resolve when every client received, return per-client latencies. */
function round(chair: Thin, clients: Thin[], itemId: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const lat: number[] = [];
    let t0 = 0;
    const timer = setTimeout(() => reject(new Error(`round timed out: ${lat.length}/${clients.length} received`)), 15_000);
    for (const c of clients) {
      c.onChanged = (t) => {
        c.onChanged = null;
        lat.push(t - t0);
        if (lat.length === clients.length) {
          clearTimeout(timer);
          resolve(lat);
        }
      };
    }
    t0 = performance.now();
    chair.goto(itemId);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const r2 = (x: number) => Math.round(x * 100) / 100;

const live = await startChild('live');
const bare = await startChild('bare');
try {
  // Heap slope and connections: half, measure, the rest, measure.
  const half = Math.floor(CLIENTS / 2);
  const liveClients = await connectAll(live, 0, half);
  const bareClients = await connectAll(bare, 0, half);
  const h1 = await live.ask<{ heapUsed: number }>({ heap: true });
  const b1 = await bare.ask<{ heapUsed: number }>({ heap: true });
  liveClients.push(...(await connectAll(live, half, CLIENTS)));
  bareClients.push(...(await connectAll(bare, half, CLIENTS)));
  const h2 = await live.ask<{ heapUsed: number }>({ heap: true });
  const b2 = await bare.ask<{ heapUsed: number }>({ heap: true });
  const heapKb = r2((h2.heapUsed - h1.heapUsed) / (CLIENTS - half) / 1024);
  const bareHeapKb = r2((b2.heapUsed - b1.heapUsed) / (CLIENTS - half) / 1024);

  const liveChair = new Thin(live.info.port, live.info.chairCookie, live.info.meetingId);
  await liveChair.open();
  const bareChair = new Thin(bare.info.port, '', 1);
  await bareChair.open();

  // Two full socket.io-client probes on the live server.
  const probes: Socket[] = [];
  let probeReceipts = 0;
  for (let i = 0; i < 2; i++) {
    const s = ioClient(`http://127.0.0.1:${live.info.port}`, { transports: ['websocket'], extraHeaders: { cookie: live.info.cookies[i] }, auth: { protocolVersion: 1 } });
    await new Promise<void>((res) => s.once('connect', () => res()));
    const ack = await s.emitWithAck('meeting:join', { meetingId: live.info.meetingId });
    if (!ack.ok) throw new Error('probe join failed');
    s.on('agenda:changed', () => probeReceipts++);
    probes.push(s);
  }

  const [a, b] = live.info.itemIds;
  let flip = 0;
  const runLive = async (n: number, into: number[] | null) => {
    for (let i = 0; i < n; i++) {
      const lat = await round(liveChair, liveClients, flip++ % 2 ? a : b);
      if (into) into.push(...lat);
    }
  };
  const runBare = async (n: number, into: number[] | null) => {
    for (let i = 0; i < n; i++) {
      const lat = await round(bareChair, bareClients, 1);
      if (into) into.push(...lat);
    }
  };

  // Warm up the live server, then size the bare payload to the live frame exactly.
  await runLive(WARMUP, null);
  const frameBytes = liveClients[0].lastBytes;
  await bare.ask({ payloadChars: frameBytes - Buffer.byteLength('42["agenda:changed",{"data":""}]') });
  await runBare(WARMUP, null);
  if (bareClients[0].lastBytes !== frameBytes) throw new Error(`frame sizes differ: ${bareClients[0].lastBytes} vs ${frameBytes}`);

  const liveLat: number[] = [];
  const bareLat: number[] = [];
  for (let done = 0, block = 0; done < ROUNDS; block++) {
    const n = Math.min(BLOCK, ROUNDS - done);
    if (block % 2 === 0) {
      await runLive(n, liveLat);
      await runBare(n, bareLat);
    } else {
      await runBare(n, bareLat);
      await runLive(n, liveLat);
    }
    done += n;
  }
  liveLat.sort((x, y) => x - y);
  bareLat.sort((x, y) => x - y);
  const expectedProbe = (WARMUP + ROUNDS) * probes.length;
  // The full probes parse every frame; give the last round's a moment to arrive.
  for (let i = 0; i < 100 && probeReceipts < expectedProbe; i++) await new Promise((r) => setTimeout(r, 20));
  const p99 = r2(pct(liveLat, 99));
  const bareP99 = r2(pct(bareLat, 99));
  console.log(
    JSON.stringify({
      detail: 'socket.io fan-out',
      clients: CLIENTS,
      rounds: ROUNDS,
      frame_bytes: frameBytes,
      live: { p50_ms: r2(pct(liveLat, 50)), p99_ms: p99, max_ms: r2(liveLat.at(-1)!), samples: liveLat.length, failed_acks: liveChair.acksFailed },
      bare: { p50_ms: r2(pct(bareLat, 50)), p99_ms: bareP99, max_ms: r2(bareLat.at(-1)!), samples: bareLat.length },
      heap_kb_per_client: heapKb,
      bare_heap_kb_per_client: bareHeapKb,
      probe_receipts: `${probeReceipts}/${expectedProbe}`,
    }),
  );
  if (liveChair.acksFailed) throw new Error(`${liveChair.acksFailed} agenda:goto commands failed`);
  for (const s of probes) s.close();
  for (const c of [...liveClients, ...bareClients, liveChair, bareChair]) c.close();
  live.proc.disconnect();
  bare.proc.disconnect();

  let yjs = { yjs_p99_ms: null as number | null, yjs_baseline_p99_ms: null as number | null, yjs_p99_ratio: null as number | null };
  try {
    const { measureYjsFanout } = await import('./lib/yjs-fanout.js');
    yjs = await measureYjsFanout({ onDetails: (d) => console.log(JSON.stringify({ detail: 'yjs fan-out', ...d })) });
  } catch (e) {
    console.log(JSON.stringify({ detail: 'yjs fan-out unavailable', error: String(e) }));
  }

  console.log(
    JSON.stringify({
      db: process.env.DB === 'postgres' ? 'postgres' : 'sqlite',
      clients: CLIENTS,
      p50_ms: r2(pct(liveLat, 50)),
      p99_ms: p99,
      bare_p99_ms: bareP99,
      p99_ratio: r2(p99 / bareP99),
      heap_kb_per_client: heapKb,
      ...yjs,
    }),
  );
  process.exit(0);
} catch (e) {
  live.proc.kill();
  bare.proc.kill();
  throw e;
}
