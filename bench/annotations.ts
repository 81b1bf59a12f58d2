/**
 * `npm run bench -- annotations`: 60 tablets drawing ink on the same document's shared annotation
 * layer, at 2 and at 10 strokes per second each (jittered), through our Yjs hub (auth at the
 * upgrade, the annotation guard validating every stroke, SQLite persistence, projection hook) and,
 * in the same run with the same update frames, through the stock y-websocket 2.1.0 server utilities.
 *
 * Most tablets are thin protocol clients (precomputed update frames, incoming frames only scanned
 * for probe markers); a few are full Y.Doc probes. A probe stroke's item id carries a marker
 * (`PRB<client>x<seq>Q`): latency = probe send → arrival at each of the other 59 clients. Each server
 * runs in its own child process (bench/lib/yjs-fanout-server.ts); its CPU time (utime+stime from
 * /proc) per 1,000 strokes received is reported for our hub.
 *
 * Details go to stdout first; the last line is exactly
 * `{ tablets, p50_ms, p99_ms, baseline_p99_ms, p99_ratio, cpu_ms_per_1000_strokes }` for 10 strokes/s
 * (the target: p99_ratio ≤ 1.3), with the 2 strokes/s figures in the details (target p99 ≤ 25 ms).
 * A probe stroke that has not reached a client 5 s after the last send counts with the time waited
 * (a lower bound), so an overloaded server cannot look fast by dropping samples.
 * Options: --tablets 60 --probes 4 --duration 6000 --rounds 2
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { type Ink, itemsMapName, layerDocName } from '../shared/protocol/annotations.js';
import { mulberry32 } from '../shared/rules/random.js';
import { PAGE_TEXTS, textPdf } from '../test/integration/annotations-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const TABLETS = arg('tablets', 60);
const PROBES = arg('probes', 4);
const DURATION = arg('duration', 6000);
const ROUNDS = arg('rounds', 2);
const WARMUP = 1000;
const PASSWORD = 'ecabinet-demo';

interface Server {
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function startServer(mode: 'hub' | 'stock'): Promise<Server> {
  // --profile: a V8 CPU profile of our hub's process in ./bench-profiles (for finding hot spots).
  const prof = process.argv.includes('--profile') && mode === 'hub' ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [];
  const child: ChildProcess = fork(path.join(here, 'lib', 'yjs-fanout-server.ts'), [mode], { execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
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

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

async function login(url: string, username: string): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username, password: PASSWORD }) });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
  return (r.headers.get('set-cookie') ?? '').split(';')[0];
}

/** On our hub: a document in the demo meeting, and the tablets' users (cookie, id, full name). */
async function prepareHub(url: string) {
  const secretary = await login(url, 'secretary');
  const agenda = (await (await fetch(`${url}/api/meetings/1/agenda`, { headers: { cookie: secretary } })).json()) as { items: { id: number }[] };
  const fd = new FormData();
  fd.append('file', new Blob([(await textPdf(PAGE_TEXTS)) as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), 'bench.pdf');
  const up = await fetch(`${url}/api/meetings/1/agenda/items/${agenda.items[0].id}/documents`, { method: 'POST', headers: { cookie: secretary, origin: url }, body: fd });
  if (up.status !== 201) throw new Error(`upload ${up.status}`);
  const doc = (await up.json()) as { id: number; current: { id: number } };
  const admin = await login(url, 'admin');
  const list = (await (await fetch(`${url}/api/users`, { headers: { cookie: admin } })).json()) as { users: { id: number; username: string; fullName: string }[] };
  const names = ['chair', 'secretary', ...Array.from({ length: 12 }, (_, i) => `member${i + 1}`)];
  const users = await Promise.all(
    names.map(async (n) => {
      const u = list.users.find((x) => x.username === n)!;
      return { id: u.id, fullName: u.fullName, cookie: await login(url, n) };
    }),
  );
  return { documentId: doc.id, versionId: doc.current.id, users };
}

type User = { id: number; fullName: string; cookie: string };

/** One jittered ink stroke (20 points, like a short pen stroke) as the tablet's user. */
function stroke(id: string, user: User, seed: number): Ink {
  const points: number[] = [];
  let x = 50 + (seed % 400);
  let y = 100 + ((seed * 7) % 600);
  for (let k = 0; k < 20; k++) {
    x += 2 + ((seed + k) % 5);
    y += ((seed * 3 + k) % 7) - 3;
    points.push(Math.round(x * 10) / 10, Math.round(y * 10) / 10);
  }
  return { id, kind: 'ink', page: 1 + (seed % 3), points, color: '#ff6b6b', width: 2, createdAt: 1_700_000_000_000 + seed, author: { userId: user.id, name: user.fullName, color: '#845ef7' } };
}

function updateFrame(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
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

const pct = (s: number[], p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN);
const r2 = (x: number) => Math.round(x * 100) / 100;
const MARK = Buffer.from('PRB', 'latin1');

interface RunResult {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  samples: number;
  expected: number;
  sent: number;
  unexpected_closes: number;
  cpu_ms_per_1000_strokes: number;
}

/** One load run: every tablet sends `rate` strokes/s (jittered ±40 %) for DURATION ms. */
async function run(server: Server, docName: string, versionId: number, users: User[], rate: number, withCookies: boolean): Promise<RunResult> {
  const url = `${server.url.replace(/^http/, 'ws')}/yjs/${encodeURIComponent(docName)}`;
  const mapName = itemsMapName(versionId);
  const thinCount = TABLETS - PROBES;
  const perClient = Math.ceil((rate * DURATION) / 1000) + 2;
  const userOf = (i: number) => users[i % users.length];
  let stopping = false;
  let closes = 0;
  // Jittered schedule per tablet: gaps of period·U(0.6, 1.4), deterministic per tablet.
  const schedule = (i: number) => {
    const rnd = mulberry32((i + 1) * 2654435761);
    const out: number[] = [];
    let t = rnd() * (1000 / rate);
    for (let k = 0; k < perClient; k++) {
      out.push(t);
      t += (1000 / rate) * (0.6 + 0.8 * rnd());
    }
    return out;
  };
  const thin = Array.from({ length: thinCount }, (_, i) => {
    const doc = new Y.Doc();
    const frames: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => frames.push(updateFrame(u)));
    const m = doc.getMap<Ink>(mapName);
    for (let s = 0; s < perClient; s++) m.set(`t${i}x${s}x${rate}`, stroke(`t${i}x${s}x${rate}`, userOf(i), i * 1000 + s));
    doc.destroy();
    return { frames, at: schedule(i), next: 0, ws: null as WebSocket | null };
  });
  const sentAt = new Map<string, number>();
  /** Receipts per probe stroke: strokes still missing at the end count as late as the wait. */
  const receipts = new Map<string, number>();
  const latencies: number[] = [];
  let measureFrom = Infinity;
  const got = (key: string, t: number) => {
    latencies.push(performance.now() - t);
    receipts.set(key, (receipts.get(key) ?? 0) + 1);
  };
  // A probe stroke's id appears twice in its frame (map key and the item's `id`): count it once.
  const record = (data: Buffer) => {
    const at = data.indexOf(MARK);
    if (at < 0) return;
    const end = data.indexOf(0x51 /* Q */, at + 3);
    if (end < 0) return;
    const key = data.toString('latin1', at, end + 1);
    const t = sentAt.get(key);
    if (t !== undefined && t >= measureFrom) got(key, t);
  };
  for (let i = 0; i < thinCount; i++) {
    const ws = await connect(url, withCookies ? userOf(i).cookie : '');
    ws.on('message', (data: Buffer) => record(data));
    ws.on('close', () => {
      if (!stopping) closes++;
    });
    thin[i].ws = ws;
  }
  const probes = await Promise.all(
    Array.from({ length: PROBES }, async (_, p) => {
      const client = thinCount + p;
      const doc = new Y.Doc();
      const ws = await connect(url, withCookies ? userOf(client).cookie : '');
      ws.on('close', () => {
        if (!stopping) closes++;
      });
      ws.on('message', (data: Buffer) => {
        const dec = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (decoding.readVarUint(dec) !== 0) return;
        const enc = encoding.createEncoder();
        encoding.writeVarUint(enc, 0);
        syncProtocol.readSyncMessage(dec, enc, doc, 'remote');
        if (encoding.length(enc) > 1) ws.send(encoding.toUint8Array(enc));
      });
      doc.getMap(mapName).observe((ev) => {
        if (ev.transaction.origin !== 'remote') return;
        for (const key of ev.keysChanged) {
          const t = sentAt.get(key);
          if (t !== undefined && t >= measureFrom) got(key, t);
        }
      });
      doc.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin !== 'remote' && ws.readyState === WebSocket.OPEN) ws.send(updateFrame(u));
      });
      return { doc, ws, seq: 0, at: schedule(client) };
    }),
  );
  await new Promise((r) => setTimeout(r, 300)); // initial syncs settle before the clock starts
  const cpu0 = cpuMs(server.pid);
  const start = performance.now() + 20;
  measureFrom = start + WARMUP;
  const end = start + DURATION;
  let sent = 0;
  let sentMeasured = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      for (const c of thin) {
        while (c.next < c.frames.length && start + c.at[c.next] <= now && start + c.at[c.next] < end) {
          if (c.ws!.readyState === WebSocket.OPEN) c.ws!.send(c.frames[c.next]);
          c.next++;
          sent++;
        }
      }
      probes.forEach((p, k) => {
        const client = thinCount + k;
        while (p.seq < p.at.length && start + p.at[p.seq] <= now && start + p.at[p.seq] < end) {
          const id = `PRB${client}x${p.seq}x${rate}Q`;
          const t = performance.now();
          sentAt.set(id, t);
          if (t >= measureFrom) sentMeasured++;
          p.doc.getMap<Ink>(mapName).set(id, stroke(id, userOf(client), client * 1000 + p.seq));
          p.seq++;
          sent++;
        }
      });
      if (now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  const expected = sentMeasured * (TABLETS - 1);
  const deadline = performance.now() + 5000;
  while (latencies.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = cpuMs(server.pid) - cpu0;
  const received = latencies.length;
  const now = performance.now();
  for (const [key, t] of sentAt) {
    if (t < measureFrom) continue;
    const missing = TABLETS - 1 - (receipts.get(key) ?? 0);
    for (let k = 0; k < missing; k++) latencies.push(now - t);
  }
  stopping = true;
  for (const c of thin) c.ws!.terminate();
  for (const p of probes) {
    p.ws.terminate();
    p.doc.destroy();
  }
  latencies.sort((a, b) => a - b);
  return {
    p50_ms: r2(pct(latencies, 50)),
    p99_ms: r2(pct(latencies, 99)),
    max_ms: r2(latencies.at(-1) ?? NaN),
    samples: received,
    expected,
    sent,
    unexpected_closes: closes,
    cpu_ms_per_1000_strokes: r2((cpu / sent) * 1000),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : r2((s[m - 1] + s[m]) / 2);
};

const [hub, stock] = await Promise.all([startServer('hub'), startServer('stock')]);
const figures: Record<number, { hub: RunResult[]; stock: RunResult[] }> = {};
try {
  const { documentId, versionId, users } = await prepareHub(hub.url);
  const docName = layerDocName({ documentId, layer: 'shared', meetingId: 1 });
  for (const rate of [2, 10]) {
    figures[rate] = { hub: [], stock: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so drift on a shared machine hits both sides alike.
      const sides: ('hub' | 'stock')[] = round % 2 === 0 ? ['stock', 'hub'] : ['hub', 'stock'];
      for (const side of sides) {
        const r =
          side === 'hub'
            ? await run(hub, docName, versionId, users, rate, true)
            : await run(stock, `${docName}:${rate}:${round}`, versionId, users, rate, false);
        figures[rate][side].push(r);
        console.log(JSON.stringify({ rate, round, side, ...r }));
      }
    }
  }
} finally {
  await Promise.all([hub.close(), stock.close()]);
}

const summary = (rate: number) => {
  const f = figures[rate];
  const p99 = median(f.hub.map((r) => r.p99_ms));
  const base = median(f.stock.map((r) => r.p99_ms));
  return {
    tablets: TABLETS,
    p50_ms: median(f.hub.map((r) => r.p50_ms)),
    p99_ms: p99,
    baseline_p99_ms: base,
    p99_ratio: r2(p99 / base),
    cpu_ms_per_1000_strokes: median(f.hub.map((r) => r.cpu_ms_per_1000_strokes)),
  };
};
console.log(JSON.stringify({ rate: 2, ...summary(2), baseline_cpu_ms_per_1000_strokes: median(figures[2].stock.map((r) => r.cpu_ms_per_1000_strokes)) }));
console.log(JSON.stringify({ rate: 10, ...summary(10), baseline_cpu_ms_per_1000_strokes: median(figures[10].stock.map((r) => r.cpu_ms_per_1000_strokes)) }));
console.log(JSON.stringify(summary(10)));
process.exit(0);
