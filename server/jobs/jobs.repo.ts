import { type SQL, and, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { jobs } from '../db/tables.js';

export type JobRow = typeof jobs.$inferSelect;

/**
 * What a runner's clock reads: `at`, its own instant, and `offsetMs`, how far it is set away from the node's
 * clock (0, except in tests that move a runner's time forward instead of sleeping).
 */
export interface RunnerClock {
  at: Date;
  offsetMs: number;
}

/**
 * The instant `plusMs` after the runner's now, as a job column value. SQLite (one process): the runner's own
 * clock. PostgreSQL: the nodes of a cluster share the jobs table and their clocks differ, so due times,
 * claims and leases are read and written by the DATABASE's clock (`now()`, moved by the runner's offset): a
 * node whose clock runs ahead neither runs jobs early nor takes over a claim that is still alive.
 */
export function jobInstant(store: Store, clock: RunnerClock, plusMs = 0): string | SQL {
  if (store.dialect !== 'postgres') return new Date(clock.at.getTime() + plusMs).toISOString();
  const ms = Math.round(clock.offsetMs + plusMs);
  return ms === 0 ? sql`now()` : sql`(now() + ${ms}::bigint * interval '1 millisecond')`;
}

/**
 * Claims up to `limit` due jobs of `kinds` for `runnerId` — pending ones due by `now`, or claimed ones
 * whose claim is older than `staleBefore` (their runner died) — in one UPDATE of a batch chosen by a
 * subquery, and returns them in run order. On PostgreSQL the subquery locks its rows `FOR UPDATE SKIP
 * LOCKED`: runners of several nodes claiming at once take different jobs instead of waiting on each other
 * (SQLite has one writer: its UPDATE is atomic as it is). `now` and `staleBefore` come from `jobInstant`.
 */
export async function claimDue(
  store: Store,
  c: { runnerId: string; kinds: string[]; now: string | SQL; staleBefore: string | SQL; limit: number },
): Promise<JobRow[]> {
  const skipLocked = store.dialect === 'postgres' ? sql` for update skip locked` : sql``;
  const claimed = await store.q
    .update(jobs)
    .set({ status: 'claimed', claimedBy: c.runnerId, claimedAt: c.now, attempts: sql`${jobs.attempts} + 1` })
    .where(
      inArray(
        jobs.id,
        sql`(select ${jobs.id} from ${jobs}
             where ${inArray(jobs.kind, c.kinds)}
               and ((${jobs.status} = 'pending' and ${jobs.runAt} <= ${c.now}) or (${jobs.status} = 'claimed' and ${jobs.claimedAt} < ${c.staleBefore}))
             order by ${jobs.runAt}, ${jobs.id} limit ${c.limit}${skipLocked})`,
      ),
    )
    .returning({ id: jobs.id });
  if (claimed.length === 0) return [];
  return store.q
    .select()
    .from(jobs)
    .where(inArray(
      jobs.id,
      claimed.map((r) => r.id),
    ))
    .orderBy(jobs.runAt, jobs.id);
}

/**
 * The condition "the job's key starts with `prefix`" (keys are ASCII, e.g. `task:12:` for every
 * reminder of task 12). SQLite compares text bytewise, so every such key sorts between `prefix` and
 * `prefix` + U+FFFF: a range scan on the key's unique index. PostgreSQL compares by the database's
 * collation, where that range does not hold: there the prefix itself is compared.
 */
export function keyStartsWith(store: Store, prefix: string): SQL {
  const exact = sql`substr(${jobs.key}, 1, ${prefix.length}) = ${prefix}`;
  if (store.dialect === 'postgres') return exact;
  return and(gte(jobs.key, prefix), lt(jobs.key, `${prefix}\uffff`), exact)!;
}
