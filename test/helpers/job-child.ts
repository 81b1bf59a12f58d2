/**
 * A child process running the real job runner with the real task-reminder handler on an existing
 * data directory (or, with DATABASE_URL, PostgreSQL database), for crash tests (test/integration/jobs.test.ts). Env: ECABINET_DATA_DIR,
 * JOB_NOW (ms, the runner's clock at start), JOB_DELAY_MS (pause between claim and send), JOB_LEASE_MS.
 * Prints `done <key>` after each committed reminder and `idle` when nothing is left, then exits.
 */
import { and, count, eq, inArray, lte } from 'drizzle-orm';
import { openDatabase } from '../../server/db/open.js';
import { jobs } from '../../server/db/tables.js';
import { JobRunner } from '../../server/jobs/jobs.js';
import { createLogger } from '../../server/log.js';
import { Notifier } from '../../server/notifications/notifications.service.js';
import { TASK_REMINDER_JOB, runTaskReminder } from '../../server/tasks/tasks.reminders.js';

const database = await openDatabase({ dataDir: process.env.ECABINET_DATA_DIR!, database: { url: process.env.DATABASE_URL || null, poolSize: 2 } });
const { store } = database;
const notifier = new Notifier();
const delay = Number(process.env.JOB_DELAY_MS ?? 0);
// The clock starts at JOB_NOW and runs: leases of a killed runner expire as real time passes.
const t0 = Date.now();
const now = () => new Date(Number(process.env.JOB_NOW) + (Date.now() - t0));
const runner = new JobRunner(store, createLogger('silent'), {
  now,
  leaseMs: Number(process.env.JOB_LEASE_MS ?? 60_000),
  batchSize: 100,
  beforeRun: delay ? () => new Promise((r) => setTimeout(r, delay)) : undefined,
  afterCommit: (job) => {
    notifier.flush();
    process.stdout.write(`done ${job.key}\n`);
  },
});
runner.register(TASK_REMINDER_JOB, { mode: 'transactional', run: (_q, job) => runTaskReminder({ notifier, store }, job.payload, job.key) });
for (;;) {
  await runner.runDue();
  // Only the kind this runner handles: a job of another kind (jobs.test.ts enqueues one without a handler) would
  // keep it from ever going idle.
  const [left] = await store.q
    .select({ n: count() })
    .from(jobs)
    .where(and(eq(jobs.kind, TASK_REMINDER_JOB), inArray(jobs.status, ['pending', 'claimed']), lte(jobs.runAt, now().toISOString())));
  if (left!.n === 0) break;
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write('idle\n');
await database.close();
