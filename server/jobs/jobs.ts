import crypto from 'node:crypto';
import { and, desc, eq, gte, inArray, lt } from 'drizzle-orm';
import { type Db, tx } from '../db/client.js';
import { jobs } from '../db/schema/index.js';
import type { Logger } from '../log.js';

export type JobRow = typeof jobs.$inferSelect;

/**
 * How a job kind runs.
 * - `transactional`: `run(db, job)` is synchronous and its writes (an in-app notification, a
 *   status flag) commit in the SAME transaction that marks the job done. Exactly once, even
 *   across `kill -9`: either both happened or neither, and a re-claimed job runs again.
 * - `external`: `run(job)` performs a side effect outside the database (SMTP). The job is
 *   marked done after it returns; a crash in between re-sends after restart (at-least-once),
 *   so the effect must carry `job.key` (e-mail Message-ID) for the receiver to deduplicate.
 */
export type JobHandler =
  | { mode: 'transactional'; run: (db: Db, job: JobRow) => void }
  | { mode: 'external'; run: (job: JobRow) => Promise<void> };

export interface EnqueueInput {
  kind: string;
  /** Idempotency key: enqueueing an existing key is a no-op (returns false). */
  key: string;
  runAt: Date | string;
  payload?: Record<string, unknown>;
}

/**
 * Schedules a job. Call it inside the transaction of the change that needs it, so the job exists
 * if and only if the change committed.
 * @returns true when a new job was created, false when the key already existed
 */
export function enqueueJob(db: Db, j: EnqueueInput): boolean {
  const runAt = typeof j.runAt === 'string' ? j.runAt : j.runAt.toISOString();
  const r = db
    .insert(jobs)
    .values({ kind: j.kind, key: j.key, runAt, payload: j.payload ?? {} })
    .onConflictDoNothing({ target: jobs.key })
    .run();
  return r.changes > 0;
}

/** Cancels pending jobs whose key starts with `prefix` (e.g. every reminder of a task). */
export function cancelJobs(db: Db, prefix: string): number {
  return db.$client
    .prepare("update jobs set status = 'cancelled' where status = 'pending' and substr(key, 1, length(?)) = ?")
    .run(prefix, prefix).changes;
}

/** One job by id, to report its state to whoever enqueued it. */
export function findJob(db: Db, id: number): JobRow | undefined {
  return db.select().from(jobs).where(eq(jobs.id, id)).get();
}

/** Jobs whose key starts with `prefix` (a range scan on the key's unique index), newest first. */
export function jobsByKeyPrefix(db: Db, prefix: string, limit = 20): JobRow[] {
  // Keys are ASCII: every key starting with `prefix` sorts between it and `prefix` + U+FFFF.
  return db
    .select()
    .from(jobs)
    .where(and(gte(jobs.key, prefix), lt(jobs.key, `${prefix}\uffff`)))
    .orderBy(desc(jobs.id))
    .limit(limit)
    .all();
}

export interface JobRunnerOptions {
  /** Injectable clock: tests move time forward instead of sleeping. */
  now?: () => Date;
  /** A claim older than this is presumed dead (its process crashed) and may be re-claimed. */
  leaseMs?: number;
  batchSize?: number;
  /** Poll interval of `start()`. */
  intervalMs?: number;
  /** Attempts before a failing job is marked `failed`. */
  maxAttempts?: number;
  /** Test hook: awaited after a job is claimed and before it runs (simulates a slow send). */
  beforeRun?: (job: JobRow) => Promise<void>;
  /** Called after each committed transactional job (e.g. `notifier.flush()` to push the news). */
  afterCommit?: (job: JobRow) => void;
  /** Called after each attempt: `done`, `retry` (failed, scheduled again) or `failed` (gave up). Metrics. */
  onOutcome?: (job: JobRow, outcome: 'done' | 'retry' | 'failed') => void;
}

/**
 * Runs due jobs from the `jobs` table: claim a batch (lease), run each, mark it done.
 * Safe with several runners on one database (claims are single UPDATE statements) and across
 * crashes (a claim whose lease expired is taken over). Errors are retried with backoff and
 * logged without payloads (which may hold personal data).
 */
export class JobRunner {
  readonly id = `runner-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;
  now: () => Date;
  private readonly opts: Required<Omit<JobRunnerOptions, 'now' | 'beforeRun' | 'afterCommit' | 'onOutcome'>> & Pick<JobRunnerOptions, 'beforeRun' | 'afterCommit' | 'onOutcome'>;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    opts: JobRunnerOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.opts = { leaseMs: 60_000, batchSize: 50, intervalMs: 5_000, maxAttempts: 5, ...opts };
  }

  /** Registers the handler of a job kind (once per kind). */
  register(kind: string, handler: JobHandler): void {
    if (this.handlers.has(kind)) throw new Error(`job kind ${kind} registered twice`);
    this.handlers.set(kind, handler);
  }

  /** Changes the clock, timers or hooks (tests). */
  setOptions(o: Partial<JobRunnerOptions>): void {
    const { now, ...rest } = o;
    if (now) this.now = now;
    Object.assign(this.opts, rest);
  }

  /** Claims due jobs of registered kinds (pending, or claimed with an expired lease). */
  private claim(): JobRow[] {
    const kinds = [...this.handlers.keys()];
    if (kinds.length === 0) return [];
    const now = this.now().toISOString();
    const staleBefore = new Date(this.now().getTime() - this.opts.leaseMs).toISOString();
    const placeholders = kinds.map(() => '?').join(',');
    const rows = this.db.$client
      .prepare(
        `update jobs set status = 'claimed', claimed_by = ?, claimed_at = ?, attempts = attempts + 1
         where id in (
           select id from jobs
           where kind in (${placeholders})
             and ((status = 'pending' and run_at <= ?) or (status = 'claimed' and claimed_at < ?))
           order by run_at, id limit ?)
         returning id`,
      )
      .all(this.id, now, ...kinds, now, staleBefore, this.opts.batchSize) as { id: number }[];
    if (rows.length === 0) return [];
    return this.db
      .select()
      .from(jobs)
      .where(inArray(
        jobs.id,
        rows.map((r) => r.id),
      ))
      .orderBy(jobs.runAt, jobs.id)
      .all();
  }

  /** Marks done only while we still hold the claim (a runner that lost its lease changes nothing). */
  private markDone(d: Db, job: JobRow): boolean {
    const r = d
      .update(jobs)
      .set({ status: 'done', doneAt: this.now().toISOString(), lastError: null })
      .where(and(eq(jobs.id, job.id), eq(jobs.status, 'claimed'), eq(jobs.claimedBy, this.id)))
      .run();
    return r.changes > 0;
  }

  private fail(job: JobRow, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    // An error marked `permanent` (e.g. an SMTP 5xx) will not get better with retries.
    const permanent = (err as { permanent?: unknown } | null)?.permanent === true;
    const final = permanent || job.attempts >= this.opts.maxAttempts;
    const backoff = Math.min(3600_000, 30_000 * 2 ** (job.attempts - 1));
    this.db
      .update(jobs)
      .set(final ? { status: 'failed', lastError: message.slice(0, 500) } : { status: 'pending', runAt: new Date(this.now().getTime() + backoff).toISOString(), lastError: message.slice(0, 500) })
      .where(and(eq(jobs.id, job.id), eq(jobs.claimedBy, this.id)))
      .run();
    this.log.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, final, err: message }, 'job failed');
    this.opts.onOutcome?.(job, final ? 'failed' : 'retry');
  }

  /**
   * Runs one batch of due jobs and returns how many completed. Concurrent calls share one run.
   */
  runDue(): Promise<number> {
    this.running ??= this.runBatch().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runBatch(): Promise<number> {
    let done = 0;
    for (const job of this.claim()) {
      const h = this.handlers.get(job.kind)!;
      try {
        if (this.opts.beforeRun) await this.opts.beforeRun(job);
        if (h.mode === 'transactional') {
          // The handler's writes and the done mark commit together, or not at all.
          const ok = tx(this.db, (d) => {
            const still = d
              .select({ id: jobs.id })
              .from(jobs)
              .where(and(eq(jobs.id, job.id), eq(jobs.status, 'claimed'), eq(jobs.claimedBy, this.id)))
              .get();
            if (!still) return false;
            h.run(d, job);
            return this.markDone(d, job);
          });
          if (ok) {
            done++;
            this.opts.afterCommit?.(job);
            this.opts.onOutcome?.(job, 'done');
          }
        } else {
          await h.run(job);
          if (this.markDone(this.db, job)) {
            done++;
            this.opts.onOutcome?.(job, 'done');
          }
        }
      } catch (err) {
        this.fail(job, err);
      }
    }
    return done;
  }

  /** Polls every `intervalMs` until `stop()`. */
  start(): void {
    this.stopped = false;
    const tick = () => {
      this.runDue()
        .catch((err) => this.log.error({ err }, 'job batch failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
