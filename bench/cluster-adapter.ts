/**
 * `npm run bench -- cluster-adapter`: which Socket.IO Redis adapter carries per-user pushes between server nodes
 * (issue #18). Two Socket.IO servers ("nodes" A and B, each with its own Redis connections, in this process) on one
 * throwaway redis-server; a socket.io-client connected to B sits in the room `user:1`; A emits to that room.
 *
 * For each adapter × client (@socket.io/redis-adapter: Redis pub/sub; @socket.io/redis-streams-adapter: a Redis
 * stream read with XREAD; each with ioredis and with node-redis):
 * - latency A → client on B, one push at a time (p50/p99 of `--pushes`), and in bursts of `--burst` pushes;
 * - a Redis restart (SIGTERM, started again empty, as an operator would) while A pushes every 20 ms: how many pushes
 *   sent while Redis was down or coming back reached the client, and how long after Redis accepted connections again
 *   the first push got through. The server must not crash meanwhile (an unhandled error would end this process).
 *
 * Only the chosen pair (streams + ioredis) is a dependency; the others are measured when installed for the
 * comparison (`npm i --no-save @socket.io/redis-adapter redis`), else reported as not installed.
 *
 * The last line is one JSON object: per variant `{ p50_ms, p99_ms, burst_p99_ms, restart: { sent, delivered, lost,
 * first_after_ms } }`. Options: --pushes 1000 --burst 200
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { startThrowawayRedis } from '../test/helpers/redis.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PUSHES = arg('pushes', 1000);
const BURST = arg('burst', 200);

type Variant = 'pubsub+ioredis' | 'pubsub+redis' | 'streams+ioredis' | 'streams+redis';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3);
};

/** A package that is not a dependency (see above); a string import so the typecheck does not need it. */
const optional = async (name: string): Promise<any> => import(name);

async function node(variant: Variant, url: string) {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  let adapter;
  const createPubSubAdapter = variant.startsWith('pubsub') ? (await optional('@socket.io/redis-adapter')).createAdapter : null;
  if (variant.endsWith('ioredis')) {
    const pub = new Redis(url, { lazyConnect: false });
    pub.on('error', () => {});
    closers.push(() => pub.disconnect());
    if (variant.startsWith('pubsub')) {
      const sub = pub.duplicate();
      sub.on('error', () => {});
      closers.push(() => sub.disconnect());
      adapter = createPubSubAdapter!(pub, sub);
    } else adapter = createStreamsAdapter(pub);
  } else {
    const { createClient } = await optional('redis');
    const pub = createClient({ url });
    pub.on('error', () => {});
    await pub.connect();
    closers.push(() => pub.destroy());
    if (variant.startsWith('pubsub')) {
      const sub = pub.duplicate();
      sub.on('error', () => {});
      await sub.connect();
      closers.push(() => sub.destroy());
      adapter = createPubSubAdapter!(pub, sub);
    } else adapter = createStreamsAdapter(pub);
  }
  const server = http.createServer();
  const io = new Server(server, { adapter });
  io.on('connection', (s) => s.join('user:1'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    io,
    port: (server.address() as AddressInfo).port,
    async close() {
      io.close();
      for (const c of closers.reverse()) await c();
    },
  };
}

async function measure(variant: Variant) {
  const redis = await startThrowawayRedis();
  const a = await node(variant, redis.url);
  const b = await node(variant, redis.url);
  // Let the streams adapter's XREAD start and both nodes see each other's heartbeat.
  await sleep(300);
  const client = connect(`http://127.0.0.1:${b.port}`, { transports: ['websocket'], reconnection: true });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await sleep(100);

  const waiting = new Map<number, (t: number) => void>();
  const seen = new Set<number>();
  client.on('push', (m: { i: number; t: number }) => {
    seen.add(m.i);
    waiting.get(m.i)?.(performance.now() - m.t);
  });
  let next = 0;
  const send = () => {
    const i = next++;
    a.io.to('user:1').emit('push', { i, t: performance.now() });
    return i;
  };
  const arrival = (i: number, timeoutMs = 2000) =>
    new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(timeoutMs), timeoutMs);
      waiting.set(i, (ms) => {
        clearTimeout(timer);
        waiting.delete(i);
        resolve(ms);
      });
    });

  for (let k = 0; k < 50; k++) await arrival(send()); // warm-up
  const single: number[] = [];
  for (let k = 0; k < PUSHES; k++) {
    const i = next;
    const p = arrival(i);
    send();
    single.push(await p);
  }
  const burst: number[] = [];
  for (let round = 0; round < 5; round++) {
    const ps: Promise<number>[] = [];
    for (let k = 0; k < BURST; k++) {
      ps.push(arrival(next));
      send();
    }
    burst.push(...(await Promise.all(ps)));
  }

  // Redis restarted mid-stream: pushes every 20 ms for 1 s before, during, and 6 s after.
  const first = next;
  let upAt = 0;
  let firstAfter = NaN;
  const timer = setInterval(() => {
    const i = send();
    if (upAt && Number.isNaN(firstAfter)) void arrival(i, 8000).then((ms) => (Number.isNaN(firstAfter) && ms < 8000 ? (firstAfter = performance.now() - upAt) : 0));
  }, 20);
  await sleep(1000);
  const downFrom = next;
  await redis.restart();
  upAt = performance.now();
  const upFrom = next;
  await sleep(6000);
  clearInterval(timer);
  await sleep(2000);
  const sent = next - first;
  let delivered = 0;
  let lostDown = 0;
  for (let i = first; i < next; i++) {
    if (seen.has(i)) delivered++;
    else if (i >= downFrom && i < upFrom) lostDown++;
  }
  client.close();
  await a.close();
  await b.close();
  await redis.stop();
  return {
    p50_ms: pct(single, 50),
    p99_ms: pct(single, 99),
    burst_p99_ms: pct(burst, 99),
    restart: { sent, delivered, lost: sent - delivered, lost_while_down: lostDown, down_pushes: upFrom - downFrom, first_after_ms: Number.isNaN(firstAfter) ? null : Math.round(firstAfter) },
  };
}

// An error the client library leaves unhandled would end a server node: counted per variant instead.
let unhandled: string[] = [];
process.on('unhandledRejection', (err) => unhandled.push(String(err)));
process.on('uncaughtException', (err) => unhandled.push(String(err)));
const installed = async (name: string) => optional(name).then(() => true, () => false);
const out: Record<string, unknown> = {};
for (const v of ['pubsub+ioredis', 'streams+ioredis', 'pubsub+redis', 'streams+redis'] as Variant[]) {
  const needs = [...(v.startsWith('pubsub') ? ['@socket.io/redis-adapter'] : []), ...(v.endsWith('+redis') ? ['redis'] : [])];
  const missing = [];
  for (const n of needs) if (!(await installed(n))) missing.push(n);
  if (missing.length) {
    out[v] = { not_installed: missing };
    console.log(v, JSON.stringify(out[v]));
    continue;
  }
  unhandled = [];
  try {
    out[v] = { ...(await measure(v)), unhandled_errors: unhandled.length, first_unhandled: unhandled[0] ?? null };
  } catch (err) {
    out[v] = { error: String(err), unhandled_errors: unhandled.length };
  }
  console.log(v, JSON.stringify(out[v]));
}
console.log(JSON.stringify(out));
process.exit(0);
