import crypto from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import type { Q, Store } from '../db/store.js';
import { jobs } from '../db/tables.js';
import { claimDue, jobInstant, keyStartsWith } from './jobs.repo.js';
import type { Logger } from '../log.js';

import type { JobRow } from './jobs.repo.js';

export type { JobRow };

/**
 * How a job kind runs.
 * - `transactional`: `run(q, job)` writes (an in-app notification, a status flag) through `q`, the
 *   job's transaction (or `ctx.store.q`, the same inside it), and its writes commit in the SAME
 *   transaction that marks the job done. Exactly once, even
 *   across `kill -9`: either both happened or neither, and a re-claimed job runs again.
 * - `external`: `run(job)` performs a side effect outside the database (SMTP). The job is
 *   marked done after it returns; a crash in between re-sends after restart (at-least-once),
 *   so the effect must carry `job.key` (e-mail Message-ID) for the receiver to deduplicate.
 */
export type JobHandler =
  | { mode: 'transactional'; run: (q: Q, job: JobRow) => Promise<unknown> }
  | { mode: 'external'; run: (job: JobRow) => Promise<void> };

export interface EnqueueInput {
  kind: string;
  /** Idempotency key: enqueueing an existing key is a no-op (returns false). */
  key: string;
  runAt: Date | string;
  payload?: Record<string, unknown>;
}

/**
 * Schedules a job. Call it inside the transaction of the change that needs it (`q` its builder), so
 * the job exists if and only if the change committed.
 * @returns true when a new job was created, false when the key already existed
 */
export async function enqueueJob(q: Q, j: EnqueueInput): Promise<boolean> {
  const runAt = typeof j.runAt === 'string' ? j.runAt : j.runAt.toISOString();
  const created = await q
    .insert(jobs)
    .values({ kind: j.kind, key: j.key, runAt, payload: j.payload ?? {} })
    .onConflictDoNothing({ target: jobs.key })
    .returning({ id: jobs.id });
  return created.length > 0;
}

/** Cancels pending jobs whose key starts with `prefix` (e.g. every reminder of a task); returns how many. */
export async function cancelJobs(store: Store, prefix: string): Promise<number> {
  const cancelled = await store.q
    .update(jobs)
    .set({ status: 'cancelled' })
    .where(and(eq(jobs.status, 'pending'), keyStartsWith(store, prefix)))
    .returning({ id: jobs.id });
  return cancelled.length;
}

/** One job by id, to report its state to whoever enqueued it. */
export async function findJob(q: Q, id: number): Promise<JobRow | undefined> {
  const [job] = await q.select().from(jobs).where(eq(jobs.id, id)).limit(1);
  return job;
}

/** Jobs whose key starts with `prefix`, newest first. */
export function jobsByKeyPrefix(store: Store, prefix: string, limit = 20): Promise<JobRow[]> {
  return store.q.select().from(jobs).where(keyStartsWith(store, prefix)).orderBy(desc(jobs.id)).limit(limit);
}

export interface JobRunnerOptions {
  /**
   * Injectable clock: tests move time forward instead of sleeping. On PostgreSQL the runner compares and
   * writes by the database's clock, moved by how far this clock is from the node's (`Date.now()`).
   */
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
  /** This node's id (ECABINET_NODE_ID) with several nodes, named in the claims. */
  nodeId?: string | null;
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
  /** Written into the claims it makes: which node and process holds a job (with several nodes, `runner-<node>-<pid>-…`). */
  readonly id: string;
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;
  now: () => Date;
  private readonly opts: Required<Omit<JobRunnerOptions, 'now' | 'nodeId' | 'beforeRun' | 'afterCommit' | 'onOutcome'>> & Pick<JobRunnerOptions, 'beforeRun' | 'afterCommit' | 'onOutcome'>;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: JobRunnerOptions = {},
  ) {
    this.id = `runner-${opts.nodeId ? `${opts.nodeId}-` : ''}${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
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

  /** The instant `plusMs` from now as the jobs table's clock reads it (see `jobInstant`). */
  private instant(plusMs = 0) {
    const at = this.now();
    return jobInstant(this.store, { at, offsetMs: at.getTime() - Date.now() }, plusMs);
  }

  /** Claims due jobs of registered kinds (pending, or claimed with an expired lease). */
  private async claim(): Promise<JobRow[]> {
    const kinds = [...this.handlers.keys()];
    if (kinds.length === 0) return [];
    return claimDue(this.store, { runnerId: this.id, kinds, now: this.instant(), staleBefore: this.instant(-this.opts.leaseMs), limit: this.opts.batchSize });
  }

  /** Marks done only while we still hold the claim (a runner that lost its lease changes nothing). */
  private async markDone(job: JobRow): Promise<boolean> {
    const r = await this.store.q
      .update(jobs)
      .set({ status: 'done', doneAt: this.instant(), lastError: null })
      .where(and(eq(jobs.id, job.id), eq(jobs.status, 'claimed'), eq(jobs.claimedBy, this.id)))
      .returning({ id: jobs.id });
    return r.length > 0;
  }

  private async fail(job: JobRow, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    // An error marked `permanent` (e.g. an SMTP 5xx) will not get better with retries.
    const permanent = (err as { permanent?: unknown } | null)?.permanent === true;
    const final = permanent || job.attempts >= this.opts.maxAttempts;
    const backoff = Math.min(3600_000, 30_000 * 2 ** (job.attempts - 1));
    await this.store.q
      .update(jobs)
      .set(final ? { status: 'failed', lastError: message.slice(0, 500) } : { status: 'pending', runAt: this.instant(backoff), lastError: message.slice(0, 500) })
      .where(and(eq(jobs.id, job.id), eq(jobs.claimedBy, this.id)));
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
    for (const job of await this.claim()) {
      const h = this.handlers.get(job.kind)!;
      try {
        if (this.opts.beforeRun) await this.opts.beforeRun(job);
        if (h.mode === 'transactional') {
          // The handler's writes and the done mark commit together, or not at all.
          const ok = await this.store.tx(async (q) => {
            const [still] = await q
              .select({ id: jobs.id })
              .from(jobs)
              .where(and(eq(jobs.id, job.id), eq(jobs.status, 'claimed'), eq(jobs.claimedBy, this.id)));
            if (!still) return false;
            await h.run(q, job);
            return this.markDone(job);
          });
          if (ok) {
            done++;
            this.opts.afterCommit?.(job);
            this.opts.onOutcome?.(job, 'done');
          }
        } else {
          await h.run(job);
          if (await this.markDone(job)) {
            done++;
            this.opts.onOutcome?.(job, 'done');
          }
        }
      } catch (err) {
        await this.fail(job, err);
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
