import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * The hub's Redis (issue #18, cluster mode with `REDIS_URL`): what several server nodes share that is not
 * authoritative — a socket of a user may be on any node, so per-user pushes, logouts and revocations go through
 * the Socket.IO Redis Streams adapter; the login limiter counts there. Nothing that must survive lives in Redis:
 * a restarted, empty Redis loses no decision, only pushes made while it was unreachable may be late.
 *
 * Why the streams adapter and ioredis: docs/ARCHITECTURE.md, "Several nodes" (bench/cluster-adapter.ts).
 */
export interface HubRedis {
  /** The Socket.IO adapter factory (`new Server(http, { adapter })`). */
  adapter: ReturnType<typeof createAdapter>;
  /**
   * A connection for plain commands (the login limiter) that fails at once while Redis is unreachable, so a
   * caller falls back instead of waiting for the reconnection (no offline queue).
   */
  commands: Redis;
  close(): void;
}

/** Reconnect forever, quickly at first, at most every 2 s: Redis coming back must be noticed within seconds. */
const retryStrategy = (attempt: number) => Math.min(100 * attempt, 2000);

/** Stream and channel names, under one prefix so a Redis shared with other software is not confused. */
export const REDIS_PREFIX = 'ecabinet:';

export function connectHubRedis(url: string, log: Logger): HubRedis {
  const rlog = log.child({ redis: 'hub' });
  // The adapter's connection keeps what is sent while Redis is away (ioredis' offline queue) and sends it on
  // reconnection; with the stream each node reads from its last offset, so pushes made during a Redis restart
  // arrive late rather than never (measured: bench/cluster-adapter.ts). `maxRetriesPerRequest: null`: a queued
  // push waits for the reconnection instead of failing after 20 retries.
  const base: RedisOptions = { retryStrategy, connectionName: 'ecabinet' };
  const stream = new Redis(url, { ...base, maxRetriesPerRequest: null });
  // The adapter reads the stream and subscribes through duplicates of `stream` that it closes only after its
  // blocking read returns — never, while Redis is unreachable: they are kept here so `close` ends them too.
  const duplicates: Redis[] = [];
  const duplicate = stream.duplicate.bind(stream);
  stream.duplicate = ((override?: Partial<RedisOptions>) => {
    const d = duplicate(override);
    duplicates.push(d);
    return d;
  }) as Redis['duplicate'];
  const commands = new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  watch(stream, rlog.child({ connection: 'adapter' }));
  watch(commands, rlog.child({ connection: 'commands' }));
  const adapter = createAdapter(stream, {
    streamName: `${REDIS_PREFIX}socket.io`,
    channelPrefix: `${REDIS_PREFIX}socket.io`,
    // Pushes are JSON (shared/protocol): no binary scan of every payload.
    onlyPlaintext: true,
    // About a minute of pushes at a busy province's rate; a node that was away longer resumes from the newest.
    maxLen: 10_000,
  });
  return {
    adapter,
    commands,
    close() {
      for (const c of [stream, commands, ...duplicates]) c.disconnect();
    },
  };
}

/**
 * Redis errors never reach the process as unhandled: each connection logs when it is lost (once, not per
 * reconnection attempt) and when it is back.
 */
function watch(client: Redis, log: Logger) {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'Redis unreachable; reconnecting (pushes to other nodes wait)');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('Redis reachable again');
  });
}
