/**
 * A/V benchmark: the SFU forwarding a hybrid meeting, the largest full mesh, and join time.
 *
 *   npm run bench -- av            (MEDIASOUP_WORKER_BIN from scripts/env.sh, /usr/bin/chromium)
 *
 * 1. Hybrid meeting: 30 participants, audio from everyone (paused on the server while muted: only
 *    the speaker and the room station are open), video from the last 6 speakers; producers on
 *    worker 1, half the participants receive on worker 2 through pipeToRouter. Driven by plain RTP
 *    senders (a Node UDP generator: Opus-sized audio at 50 packets/s, VP8 at 25 frames/s in two
 *    packets, keyframe every second) through PlainTransports; receivers are UDP sockets counting
 *    packets and sequence gaps per SSRC. Worker CPU from /proc/<pid>/stat.
 *    Anchor in the same run: the same meeting on ONE worker (no pipe).
 * 2. Full mesh: everyone's audio and video to everyone, N = 4, 6, 8…; the largest N with loss
 *    under 0.1% and no worker above 95% of a core.
 * 3. Join time: click "Tham gia" in the real web client (headless Chromium, fake devices) to the
 *    first decoded remote video frame (the room station's camera), repeated.
 *
 * Last line: {"participants","worker_cpu_pct","loss_pct","max_full_mesh","join_p50_ms","join_p99_ms"}.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import type { types as Ms } from 'mediasoup';
import { DEBIAN_WORKER_BIN, MEDIA_CODECS } from '../server/sfu/sfu.config.js';

process.env.MEDIASOUP_WORKER_BIN ??= DEBIAN_WORKER_BIN;
const msModule = (await import('mediasoup')) as typeof import('mediasoup') & { default?: typeof import('mediasoup') };
const mediasoup = msModule.default ?? msModule;

const PARTICIPANTS = Number(process.env.AV_BENCH_PARTICIPANTS ?? 30);
const VIDEO_SPEAKERS = 6;
const SECONDS = Number(process.env.AV_BENCH_SECONDS ?? 8);
const MESH_SECONDS = 4;
const JOIN_SAMPLES = Number(process.env.AV_BENCH_JOINS ?? 12);
const TICKS = 100; // getconf CLK_TCK on Linux

// --------------------------------------------------------------------------------------------
// RTP generator and counters

const AUDIO_PT = 100;
const VIDEO_PT = 101;

interface Source {
  ssrc: number;
  port: number;
  kind: 'audio' | 'video';
  seq: number;
  ts: number;
  picture: number;
  frame: number;
}

function rtp(src: Source, payload: Buffer, marker: boolean): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | (src.kind === 'audio' ? AUDIO_PT : VIDEO_PT);
  h.writeUInt16BE(src.seq & 0xffff, 2);
  h.writeUInt32BE(src.ts >>> 0, 4);
  h.writeUInt32BE(src.ssrc >>> 0, 8);
  src.seq++;
  return Buffer.concat([h, payload]);
}

const OPUS = Buffer.alloc(90, 0x5a);
/** A VP8 packet: extended descriptor with a 15-bit picture id, then the frame tag (bit 0 clear = key frame). */
function vp8(src: Source, start: boolean, key: boolean): Buffer {
  const p = Buffer.alloc(1000, 0x33);
  p[0] = 0x80 | (start ? 0x10 : 0); // X, S, partition 0
  p[1] = 0x80; // I: picture id present
  p[2] = 0x80 | ((src.picture >> 8) & 0x7f);
  p[3] = src.picture & 0xff;
  p[4] = key ? 0x10 : 0x11;
  if (key) p.set([0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 5);
  return p;
}

/**
 * Sends every source's packets every 20 ms (audio 50 packets/s, video 25 frames/s of two packets),
 * spread over five 4 ms phases so that, as with real endpoints, not every sender fires at once.
 */
function generator(sources: Source[]) {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  let tick = 0;
  const counter = { sent: 0 };
  const start = performance.now();
  const phaseOf = (tick: number) => {
    const phase = tick % 5;
    const cycle = Math.floor(tick / 5);
    sources.forEach((s, k) => {
      if (k % 5 !== phase) return;
      if (s.kind === 'audio') {
        sock.send(rtp(s, OPUS, false), s.port, '127.0.0.1');
        s.ts += 960;
        counter.sent++;
      } else if (cycle % 2 === 0) {
        counter.sent += 2;
        const key = s.frame % 25 === 0;
        sock.send(rtp(s, vp8(s, true, key), false), s.port, '127.0.0.1');
        sock.send(rtp(s, vp8(s, false, false), true), s.port, '127.0.0.1');
        s.ts += 3600;
        s.picture = (s.picture + 1) & 0x7fff;
        s.frame++;
      }
    });
  };
  // Timers run late on a loaded machine: send every phase that is due by the wall clock.
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / 4);
    while (tick <= due) phaseOf(tick++);
  }, 4);
  return { counter, stop: () => (clearInterval(timer), sock.close()) };
}

/** Counts packets per SSRC and the sequence range seen, while `counting`. */
class Receiver {
  readonly sock = dgram.createSocket('udp4');
  readonly kinds = new Map<number, 'audio' | 'video'>();
  constructor(readonly routerIndex = 0) {}
  readonly streams = new Map<number, { count: number; first: number; last: number; cycles: number; prev: number }>();
  counting = false;
  port = 0;
  async open() {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.setRecvBufferSize(8 * 1024 * 1024);
    this.port = this.sock.address().port;
    this.sock.on('message', (m) => {
      if (!this.counting || m.length < 12 || (m[1] >= 192 && m[1] <= 223)) return; // RTCP (muxed) is not counted
      const ssrc = m.readUInt32BE(8);
      const seq = m.readUInt16BE(2);
      let s = this.streams.get(ssrc);
      if (!s) this.streams.set(ssrc, (s = { count: 0, first: seq, last: seq, cycles: 0, prev: seq }));
      if (seq < s.prev && s.prev - seq > 30000) s.cycles += 65536;
      s.prev = seq;
      const ext = s.cycles + seq;
      s.count++;
      if (ext > s.last) s.last = ext;
      if (ext < s.first) s.first = ext;
    });
  }
  /** [received, expected] in the window, optionally for one kind. */
  totals(kind?: 'audio' | 'video'): [number, number] {
    let got = 0;
    let expected = 0;
    for (const [ssrc, s] of this.streams) {
      if (kind && this.kinds.get(ssrc) !== kind) continue;
      got += s.count;
      expected += s.last - s.first + 1;
    }
    return [got, expected];
  }
  close() {
    this.sock.close();
  }
}

function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime
}

// --------------------------------------------------------------------------------------------
// One meeting on the SFU

interface MeetingResult {
  consumers: number;
  lossPct: number;
  workerCpu: number[];
  generatorCpuPct: number;
  /** Packets the generator actually sent in the window, as a share of its nominal rate (timer lag). */
  sendRatePct: number;
  /** Loss by receiving router and kind. */
  breakdown: string;
}

async function runMeeting(opts: {
  workers: Ms.Worker[];
  participants: number;
  /** Who sends video. */
  video: (i: number) => boolean;
  /** Whose microphone is open (others' audio producers are paused on the server). */
  audioOpen: (i: number) => boolean;
  seconds: number;
}): Promise<MeetingResult> {
  const routers = await Promise.all(opts.workers.map((w) => w.createRouter({ mediaCodecs: MEDIA_CODECS })));
  const home = routers[0];
  const sources: Source[] = [];
  const producers: { i: number; producer: Ms.Producer }[] = [];
  let ssrc = 1000;
  for (let i = 0; i < opts.participants; i++) {
    const t = await home.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const a: Source = { ssrc: ++ssrc, port: t.tuple.localPort, kind: 'audio', seq: 1, ts: 0, picture: 0, frame: 0 };
    const ap = await t.produce({
      kind: 'audio',
      paused: !opts.audioOpen(i),
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: a.ssrc }] },
    });
    sources.push(a);
    producers.push({ i, producer: ap });
    if (opts.video(i)) {
      const v: Source = { ssrc: ++ssrc, port: t.tuple.localPort, kind: 'video', seq: 1, ts: 0, picture: 0, frame: 0 };
      const vp = await t.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }],
          encodings: [{ ssrc: v.ssrc }],
        },
      });
      sources.push(v);
      producers.push({ i, producer: vp });
    }
  }
  // Other routers get every producer through pipeToRouter.
  for (const r of routers.slice(1)) for (const { producer } of producers) await home.pipeToRouter({ producerId: producer.id, router: r });

  const receivers: Receiver[] = [];
  let consumers = 0;
  for (let i = 0; i < opts.participants; i++) {
    const ri = Math.floor((i * routers.length) / opts.participants);
    const router = routers[ri];
    const rx = new Receiver(ri);
    await rx.open();
    receivers.push(rx);
    const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await t.connect({ ip: '127.0.0.1', port: rx.port });
    for (const { i: owner, producer } of producers) {
      if (owner === i) continue;
      const c = await t.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: false });
      rx.kinds.set(c.rtpParameters.encodings![0].ssrc!, c.kind);
      consumers++;
    }
  }

  const gen = generator(sources);
  await new Promise((r) => setTimeout(r, 1500)); // warm up: key frames reach every consumer
  const pids = opts.workers.map((w) => w.pid);
  const before = pids.map(cpuTicks);
  const self0 = process.cpuUsage();
  for (const rx of receivers) rx.counting = true;
  const sent0 = gen.counter.sent;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  for (const rx of receivers) rx.counting = false;
  const elapsed = (Date.now() - t0) / 1000;
  const after = pids.map(cpuTicks);
  const self = process.cpuUsage(self0);
  const sent = gen.counter.sent - sent0;
  gen.stop();
  const nominal = sources.reduce((n, s) => n + (s.kind === 'audio' ? 50 : 50), 0) * elapsed;
  let got = 0;
  let expected = 0;
  const parts: Record<string, [number, number]> = {};
  for (const rx of receivers) {
    const [g, e] = rx.totals();
    got += g;
    expected += e;
    for (const kind of ['audio', 'video'] as const) {
      const key = `r${rx.routerIndex}/${kind}`;
      const [kg, ke] = rx.totals(kind);
      parts[key] = [(parts[key]?.[0] ?? 0) + kg, (parts[key]?.[1] ?? 0) + ke];
    }
    rx.close();
  }
  const breakdown = Object.entries(parts)
    .filter(([, [, e]]) => e > 0)
    .map(([k, [g, e]]) => `${k} ${round((100 * (e - g)) / e, 2)}%`)
    .join(', ');
  for (const r of routers) r.close();
  return {
    consumers,
    lossPct: expected ? Math.max(0, (100 * (expected - got)) / expected) : 100,
    workerCpu: after.map((a, k) => (100 * (a - before[k])) / TICKS / elapsed),
    generatorCpuPct: (100 * (self.user + self.system)) / 1e6 / elapsed,
    sendRatePct: (100 * sent) / nominal,
    breakdown,
  };
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const fmt = (r: MeetingResult) =>
  `consumers ${r.consumers}, loss ${round(r.lossPct, 3)}%, worker CPU ${r.workerCpu.map((c) => `${round(c)}%`).join(' / ')}, generator CPU ${round(r.generatorCpuPct)}%, sent ${round(r.sendRatePct)}% of nominal [${r.breakdown}]`;

// --------------------------------------------------------------------------------------------

console.log(`# load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`# A/V bench on ${os.cpus().length} cores, mediasoup ${mediasoup.version}, worker ${process.env.MEDIASOUP_WORKER_BIN}`);
const workers = [
  await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 20000, rtcMaxPort: 29999 }),
  await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 20000, rtcMaxPort: 29999 }),
];

// Hybrid meeting: participant 0 is the room station (microphone open), participant 1 has the floor;
// the last 6 speakers (0..5) send video.
const hybrid = { participants: PARTICIPANTS, video: (i: number) => i < VIDEO_SPEAKERS, audioOpen: (i: number) => i <= 1, seconds: SECONDS };
const ONLY_JOIN = process.env.AV_BENCH_ONLY === 'join';
const anchor = ONLY_JOIN ? { consumers: 0, lossPct: 0, workerCpu: [0], generatorCpuPct: 0, sendRatePct: 0, breakdown: '' } : await runMeeting({ ...hybrid, workers: [workers[0]] });
console.log(`anchor  ${PARTICIPANTS} participants on 1 worker:            ${fmt(anchor)}`);
const spread = ONLY_JOIN ? anchor : await runMeeting({ ...hybrid, workers });
console.log(`hybrid  ${PARTICIPANTS} participants on 2 workers (pipe):     ${fmt(spread)}`);

let maxMesh = 0;
for (let n = 4; n <= (ONLY_JOIN ? 0 : 40); n += 2) {
  const step = () => runMeeting({ workers, participants: n, video: () => true, audioOpen: () => true, seconds: MESH_SECONDS });
  const ok = (x: MeetingResult) => x.lossPct < 0.1 && x.workerCpu.every((c) => c < 95);
  let r = await step();
  // One retry: on a shared, oversubscribed machine a descheduled process can overflow a socket buffer.
  if (!ok(r)) {
    console.log(`mesh    ${n} participants (first try):             ${fmt(r)}`);
    r = await step();
  }
  const fine = ok(r);
  console.log(`mesh    ${n} participants, all audio+video to all:   ${fmt(r)} ${fine ? 'ok' : 'LIMIT'}`);
  if (!fine) break;
  maxMesh = n;
  if (r.generatorCpuPct > 90) {
    console.log('        (the load generator is saturated: the SFU may do more than this)');
    break;
  }
}
for (const w of workers) w.close();

// --------------------------------------------------------------------------------------------
// Join time in the real web client.

const joins: number[] = [];
{
  const { startTestServer } = await import('../test/helpers/server.js');
  const { launchBrowser, login, newPage } = await import('../test/helpers/browser.js');
  const srv = await startTestServer({ seed: 'demo' });
  const browser = await launchBrowser({ fakeMedia: true });
  try {
    await runJoins();
  } catch (e) {
    // An overloaded machine can starve Chromium; report what was measured rather than nothing.
    console.log(`# join phase stopped after ${joins.length} samples: ${String(e).split('\n')[0]}`);
  } finally {
    await browser.close();
    await srv.close();
  }
  async function runJoins() {
    const room = await newPage(browser, srv.url);
    await login(room, 'room1');
    await room.goto('/meetings/1/av');
    await room.locator('[data-testid="av-join"]').click();
    await room.locator('[data-testid="av-floor"]').waitFor({ timeout: 90_000 });
    const page = await newPage(browser, srv.url);
    page.on('pageerror', (e) => console.log('# page error', e.message));
    await login(page, 'member1');
    await page.goto('/meetings/1/av');
    await page.locator('ec-av-panel label.row input[type="checkbox"]').uncheck();
    for (let k = 0; k < JOIN_SAMPLES; k++) {
      await page.locator('[data-testid="av-join"]').waitFor();
      await page.locator('[data-testid="mic-select"] option').first().waitFor({ state: 'attached' });
      // t0 = the click as the page sees it (capture listener), t1 = first decoded remote video frame.
      // (A string, not a function: tsx would wrap named inner functions in a helper the page lacks.)
      const armed: Promise<number> = page.evaluate(`new Promise((resolve) => {
        document.addEventListener('click', () => {
          const t0 = performance.now();
          const poll = async () => {
            const frames = window.ecMedia ? await window.ecMedia.inboundVideoFrames().catch(() => 0) : 0;
            if (frames > 0) return resolve(performance.now() - t0);
            if (performance.now() - t0 > 20000) return resolve(-1);
            setTimeout(poll, 10);
          };
          poll();
        }, { capture: true, once: true });
      })`);
      await page.locator('[data-testid="av-join"]').click();
      const ms = await armed.catch((e) => {
        throw new Error(`join sample ${k}: ${e}`);
      });
      if (ms < 0) throw new Error('no remote frame within 20 s');
      joins.push(ms);
      await page.locator('[data-testid="av-leave"]').click();
    }
  }
}
joins.sort((a, b) => a - b);
const pct = (p: number) => (joins.length ? joins[Math.min(joins.length - 1, Math.ceil((p / 100) * joins.length) - 1)] : NaN);
console.log(`join    click → first remote video frame, ${joins.length} joins: ${joins.map((j) => Math.round(j)).join(', ')} ms`);
console.log(`# worker CPU: 2 workers max ${round(Math.max(...spread.workerCpu))}% vs 1-worker anchor ${round(anchor.workerCpu[0])}% of a core`);

console.log(
  JSON.stringify({
    participants: PARTICIPANTS,
    worker_cpu_pct: round(Math.max(...spread.workerCpu)),
    loss_pct: round(spread.lossPct, 3),
    max_full_mesh: maxMesh,
    join_p50_ms: joins.length ? Math.round(pct(50)) : null,
    join_p99_ms: joins.length ? Math.round(pct(99)) : null,
  }),
);
