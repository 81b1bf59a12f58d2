import pg from 'pg';
import { z } from 'zod';
import { Id } from '../../shared/protocol/common.js';
import type { AppContext, Running, ServerModule } from '../context.js';
import { type OutboxTopic, SHARED_EVENTS, type SharedEvent } from '../events.js';
import { type OutboxRow, insertOutbox, lastOutboxId, outboxAfter, pruneOutbox } from './outbox.repo.js';

/**
 * Domain events across server nodes (issue #18): the transactional outbox. In cluster mode (`ECABINET_NODE_ID`), an
 * event other nodes must hear (`SHARED_EVENTS`, and the notifier's signal) is written as a row of `event_outbox` in
 * the transaction of the change that made it (`bus.share`, `notifier.notify`): it exists if and only if the change
 * committed. Each node listens on `ecabinet_events` (a trigger notifies on insert, delivered at commit), then reads
 * the rows after the last one it saw and re-emits those of other nodes on its bus with `{ remote: true }`.
 *
 * Nothing is lost while a node's listening connection is down: the wake-up is only a hint; the rows stay, and a
 * node reads everything after what it saw when it reconnects (and every `pollMs` anyway, against a connection that
 * hangs without breaking). Ids are handed out at insert and commit in any order across nodes, so an id skipped
 * by a read may still commit: it is kept as a gap and looked for again until `gapMs` (a rolled-back insert's id
 * never appears). Rows are pruned after `retentionSeconds`, by the database's clock.
 *
 * Single-node deployments (no node id) have no outbox: events stay in-process, as before.
 */
export interface OutboxOptions {
  pollMs: number;
  gapMs: number;
  retentionSeconds: number;
  pruneMs: number;
  /** The first wait before listening again after the connection broke (doubling up to 2 s). */
  reconnectMs: number;
}
export const OUTBOX_DEFAULTS: OutboxOptions = { pollMs: 15_000, gapMs: 60_000, retentionSeconds: 600, pruneMs: 60_000, reconnectMs: 100 };

const CHANNEL = 'ecabinet_events';
const BATCH = 500;
/** Ids to remember as gaps at most per read: a jump beyond (a sequence moved on after a crash) is not a gap. */
const MAX_GAP = 1000;

const MeetingIds = z.array(Id).max(100_000);
/** What each topic carries; rows are this application's own writes, still checked before they reach listeners. */
const PAYLOADS = {
  'meeting:changed': z.object({ meetingId: Id, removedUserIds: MeetingIds.optional() }).strict(),
  'agenda:changed': z.object({ meetingId: Id, version: z.number().int().nonnegative() }).strict(),
  'session:ended': z.union([z.object({ tokenHash: z.string().regex(/^[0-9a-f]{64}$/) }).strict(), z.object({ userId: Id }).strict()]),
  'document:changed': z.object({ documentId: Id, meetingId: Id, change: z.enum(['version', 'access', 'removed']) }).strict(),
  'notifications:created': z.object({ userIds: MeetingIds, kind: z.string().min(1).max(100), meetingId: Id.nullable() }).strict(),
} satisfies Record<OutboxTopic, z.ZodType>;

const isShared = (topic: string): topic is SharedEvent => (SHARED_EVENTS as readonly string[]).includes(topic);

/** Reads the outbox for one node and delivers other nodes' events to its bus and notifier. */
export class OutboxReader {
  private seen = 0;
  /** Ids below `seen` not read yet → when first missed (ms). */
  private readonly gaps = new Map<number, number>();
  private reading: Promise<void> | null = null;
  private again = false;
  private client: pg.Client | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  /** Events delivered from other nodes (tests, metrics). */
  delivered = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly nodeId: string,
    private readonly url: string,
    private options: OutboxOptions = { ...OUTBOX_DEFAULTS },
  ) {}

  /** Changes tunables (tests: a node held deaf after a break, with no poll to cover for it). Restarts the poll timer. */
  setOptions(partial: Partial<OutboxOptions>): void {
    this.options = { ...this.options, ...partial };
    if (this.pollTimer) this.schedulePoll();
  }

  /** Whether this node's listening connection is up now. */
  get listening(): boolean {
    return this.client !== null;
  }

  private schedulePoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      void this.read();
      this.schedulePoll();
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  async start(): Promise<void> {
    // A starting node holds no sockets or documents yet: what happened before concerns it not.
    this.seen = await lastOutboxId(this.ctx.store);
    this.loop = this.listen();
    this.schedulePoll();
    this.pruneTimer = setInterval(() => {
      pruneOutbox(this.ctx.store, this.options.retentionSeconds).catch((err: unknown) => this.ctx.log.warn({ err }, 'outbox: prune failed'));
    }, this.options.pruneMs);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer ?? undefined);
    clearInterval(this.pruneTimer ?? undefined);
    await this.client?.end().catch(() => undefined);
    await this.loop;
    await this.reading;
  }

  /** The listening connection, reconnected after any break; every (re)connection is followed by a read. */
  private async listen(): Promise<void> {
    let backoff = this.options.reconnectMs;
    while (!this.stopped) {
      const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: `ecabinet-outbox-${this.nodeId}` });
      const ended = new Promise<void>((resolve) => {
        client.once('end', resolve);
        client.on('error', (err) => {
          if (!this.stopped) this.ctx.log.warn({ err }, 'outbox: listening connection lost');
          resolve();
        });
      });
      try {
        await client.connect();
        client.on('notification', () => void this.read());
        await client.query(`LISTEN ${CHANNEL}`);
        this.client = client;
        backoff = this.options.reconnectMs;
        // What committed while nobody listened (the connection was down, or this one was not yet up).
        void this.read();
        await ended;
      } catch (err) {
        if (!this.stopped) this.ctx.log.warn({ err }, 'outbox: could not listen');
      }
      this.client = null;
      client.removeAllListeners('notification');
      await client.end().catch(() => undefined);
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, Math.max(backoff, this.options.reconnectMs)).unref());
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  /** Reads what is new; a call while a read runs makes it read once more after (one wake-up may cover several commits). */
  read(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false;
          await this.readOnce();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.ctx.log.warn({ err }, 'outbox: read failed (retried on the next wake-up or poll)');
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    let after = this.gaps.size ? Math.min(...this.gaps.keys()) - 1 : this.seen;
    for (;;) {
      const rows = await outboxAfter(this.ctx.store, after, BATCH);
      const now = Date.now();
      for (const row of rows) {
        if (row.id <= this.seen) {
          if (!this.gaps.delete(row.id)) continue;
        } else {
          for (let id = Math.max(this.seen + 1, row.id - MAX_GAP); id < row.id; id++) this.gaps.set(id, now);
          this.seen = row.id;
        }
        if (row.nodeId !== this.nodeId) this.deliver(row);
      }
      if (rows.length < BATCH || this.stopped) break;
      after = rows[rows.length - 1].id;
    }
    const now = Date.now();
    for (const [id, since] of this.gaps) if (now - since > this.options.gapMs) this.gaps.delete(id);
  }

  private deliver(row: OutboxRow): void {
    const { ctx } = this;
    const topic = row.topic as OutboxTopic;
    const schema = PAYLOADS[topic] as z.ZodType | undefined;
    const parsed = schema?.safeParse(row.payload);
    if (!parsed?.success) {
      ctx.log.warn({ id: row.id, topic: row.topic }, 'outbox: ignored an event of unknown shape');
      return;
    }
    this.delivered++;
    try {
      if (isShared(topic)) (ctx.bus.emit as (name: SharedEvent, payload: unknown, meta: { remote: true }) => boolean)(topic, parsed.data, { remote: true });
      // With the Redis adapter the node that notified already reached the recipients' sockets on every node.
      else if (!ctx.config.cluster.redisUrl) ctx.notifier.emit('created', parsed.data as { userIds: number[]; kind: string; meetingId: number | null });
    } catch (err) {
      // A listener must never throw into the reader: the next events still go out.
      ctx.log.error({ err, id: row.id, topic }, 'outbox: a listener failed on an event from another node');
    }
  }
}

/**
 * The outbox as a module: `register` gives the bus and the notifier their writer (so the very first change writes
 * its row), `start` reads. Nothing at all without a node id.
 */
export const outboxModule: ServerModule = {
  name: 'outbox',
  register(ctx) {
    const nodeId = ctx.config.cluster.nodeId;
    if (!nodeId) return;
    const write = (q: Parameters<typeof insertOutbox>[0], topic: OutboxTopic, payload: object) => insertOutbox(q, nodeId, topic, payload);
    ctx.bus.setOutbox(write);
    ctx.notifier.setOutbox(write);
  },
  async start(ctx): Promise<Running | void> {
    const nodeId = ctx.config.cluster.nodeId;
    const url = ctx.config.database.url;
    if (!nodeId || !url) return;
    const reader = new OutboxReader(ctx, nodeId, url);
    ctx.outbox = reader;
    await reader.start();
    return { stop: () => reader.stop() };
  },
};

declare module '../context.js' {
  interface DomainServices {
    /** The cluster's event reader (cluster mode only). */
    outbox?: OutboxReader;
  }
}
