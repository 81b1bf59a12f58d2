import { type ChildProcess, spawn } from 'node:child_process';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, notifications } from '../../server/db/tables.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer, until } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/** Runs test/helpers/job-child.ts on the server's data directory (and database); collects its `done` lines. */
async function runChild(dataDir: string, env: Record<string, string>) {
  const databaseUrl = await testDatabaseUrl(dataDir);
  const lines: string[] = [];
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/job-child.ts'], {
    env: { ...process.env, ECABINET_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, exited };
}

describe('durable jobs', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    s.app.ctx.jobs.setOptions({ intervalMs: 3600_000 });
  });
  afterAll(() => s.close());

  // Two child processes (tsx start-up each) and a committee of twelve: more than the default minute on a loaded machine.
  it('kill -9 during a reminder batch: after restart every reminder is sent exactly once', { timeout: 180_000 }, async () => {
    const m = await buildMeeting(s, { members: 12, agendaItems: 1 });
    const { meetingId } = m;
    const secretary = await m.as('secretary');
    const owners = m.members.map((u) => u.id);
    const TASKS = 30;
    for (let i = 0; i < TASKS; i++) {
      const r = await secretary.post('/api/tasks', { meetingId, title: `Nhiệm vụ ${i + 1}`, owner: { kind: 'user', userId: owners[i % owners.length] }, deadline: inDays(5 + (i % 3)) });
      expect(r.status).toBe(201);
    }
    const { store } = s.app.ctx;
    /** How many task reminder jobs are in each status. */
    const byStatus = async () => {
      const rows = await store.q.select({ status: jobs.status }).from(jobs).where(eq(jobs.kind, 'task.reminder'));
      const n: Record<string, number> = {};
      for (const r of rows) n[r.status] = (n[r.status] ?? 0) + 1;
      return n;
    };
    expect(await byStatus()).toEqual({ pending: TASKS * 2 }); // due soon + overdue for each task

    const later = String(Date.now() + 30 * 86400_000); // every reminder is due
    const first = await runChild(s.dataDir, { JOB_NOW: later, JOB_DELAY_MS: '15' });
    await until(() => first.lines.filter((l) => l.startsWith('done ')).length >= 10, { timeout: 30_000, what: 'ten reminders sent' });
    first.proc.kill('SIGKILL');
    await first.exited;
    const mid = await byStatus();
    expect(mid.claimed).toBeGreaterThan(0); // killed in the middle of a claimed batch
    expect(mid.done).toBeLessThan(TASKS * 2);

    const second = await runChild(s.dataDir, { JOB_NOW: later, JOB_LEASE_MS: '200' });
    await until(() => second.lines.includes('idle'), { timeout: 60_000, what: 'restarted runner idle' });
    await second.exited;

    const reminded = await store.q.select({ data: notifications.data }).from(notifications).where(inArray(notifications.kind, ['task_due_soon', 'task_overdue']));
    const perKey = new Map<unknown, number>();
    for (const r of reminded) perKey.set(r.data.reminderKey, (perKey.get(r.data.reminderKey) ?? 0) + 1);
    expect(perKey.size).toBe(TASKS * 2);
    expect([...perKey].filter(([, n]) => n !== 1)).toEqual([]);
    expect(await byStatus()).toEqual({ done: TASKS * 2 });
  });

  it('enqueueing the same idempotency key twice keeps one job', async () => {
    const { enqueueJob, jobsByKeyPrefix } = await import('../../server/jobs/jobs.js');
    const { store } = s.app.ctx;
    expect(await enqueueJob(store.q, { kind: 'x.test', key: 'same-key', runAt: new Date() })).toBe(true);
    expect(await enqueueJob(store.q, { kind: 'x.test', key: 'same-key', runAt: new Date() })).toBe(false);
    expect(await jobsByKeyPrefix(store, 'same-key')).toHaveLength(1);
  });

  it('a key prefix selects exactly the keys that start with it, for listing and for cancelling', async () => {
    const { cancelJobs, enqueueJob, jobsByKeyPrefix } = await import('../../server/jobs/jobs.js');
    const { store } = s.app.ctx;
    const p = `prefix-${Date.now()}`;
    for (const key of [`${p}:1:a`, `${p}:1:b`, `${p}:12:a`, `${p}:1`, `${p}:10:a`]) await enqueueJob(store.q, { kind: 'x.test', key, runAt: new Date(Date.now() + 3600_000) });
    expect((await jobsByKeyPrefix(store, `${p}:1:`)).map((j) => j.key)).toEqual([`${p}:1:b`, `${p}:1:a`]);
    expect(await cancelJobs(store, `${p}:1:`)).toBe(2);
    expect(await cancelJobs(store, `${p}:1:`)).toBe(0); // only pending jobs are cancelled
    const all = await jobsByKeyPrefix(store, `${p}:`);
    expect(Object.fromEntries(all.map((j) => [j.key, j.status]))).toEqual({ [`${p}:1:a`]: 'cancelled', [`${p}:1:b`]: 'cancelled', [`${p}:12:a`]: 'pending', [`${p}:1`]: 'pending', [`${p}:10:a`]: 'pending' });
  });
});
