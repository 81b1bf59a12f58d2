import path from 'node:path';
import { inArray, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../server/db/tables.js';
import type { JobRow } from '../../server/jobs/jobs.js';
import { MAIL_SEND_JOB } from '../../server/mail/mail.service.js';
import { ChildServer } from '../helpers/child-server.js';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting, giveEmails } from '../helpers/factories.js';
import { type TestServer, inDays, until } from '../helpers/server.js';
import { SmtpSink } from '../helpers/smtp.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

const FROM = 'Văn phòng UBND <no-reply@ubnd.example.gov.vn>';
const APP_URL = 'https://hop.example.gov.vn';
/** How far ahead the skewed node's clock runs. */
const SKEW_MS = 10 * 60_000;

/**
 * Jobs with several nodes (issue #18, server/jobs): three nodes in this process and one child node whose clock runs
 * ten minutes ahead, on one PostgreSQL database. The effect counted is what the SMTP server received (one e-mail per
 * `mail.send` job, its key in `X-ECabinet-Key`), not the job rows.
 */
// One journey: the first test has the three nodes run jobs; the next ones stop them and run only the skewed node.
describe('jobs across nodes run exactly once, by the database clock', { shuffle: false }, () => {
  let sink: SmtpSink;
  let nodes: TestServer[];
  let skewed: ChildServer | null = null;
  let mail: { userId: number; taskId: number };

  beforeAll(async () => {
    sink = await SmtpSink.create();
    nodes = await startNodes(3, { config: { mail: { smtpUrl: sink.url, from: FROM, appUrl: APP_URL } } });
    for (const n of nodes) n.app.ctx.jobs.setOptions({ intervalMs: 50 });
    // One open task with an owner who has an address: every e-mail job below is a due-soon reminder about it.
    const m = await buildMeeting(nodes[0], { agendaItems: 1, members: 1 });
    await giveEmails(await nodes[0].login('admin'), [m.members[0]]);
    const t = await (await m.as('secretary')).post('/api/tasks', { meetingId: m.meetingId, title: 'Tổng hợp ý kiến các sở', owner: { kind: 'user', userId: m.members[0].id }, deadline: inDays(5) });
    expect(t.status).toBe(201);
    mail = { userId: m.members[0].id, taskId: t.body.id };
  }, 180_000);
  afterAll(async () => {
    await skewed?.dispose();
    await Promise.allSettled(nodes.map((n) => n.close()));
    await sink?.stop();
  });

  const store = () => nodes[0].app.ctx.store;
  /** Inserts `n` e-mail jobs with keys `<prefix><i>`, due `dueInMs` from now by the DATABASE's clock. */
  async function enqueueMails(prefix: string, n: number, dueInMs: number) {
    const runAt = sql`now() + ${dueInMs}::bigint * interval '1 millisecond'`;
    await store()
      .q.insert(jobs)
      .values(Array.from({ length: n }, (_, i) => ({ kind: MAIL_SEND_JOB, key: `${prefix}${i}`, runAt, payload: { userId: mail.userId, kind: 'task_due_soon', taskId: mail.taskId } })));
  }
  const jobsOf = (prefix: string): Promise<JobRow[]> => store().q.select().from(jobs).where(like(jobs.key, `${prefix}%`));
  /** E-mails received per job key. */
  const received = (prefix: string) => {
    const n = new Map<string, number>();
    for (const r of sink.withKeyPrefix(prefix)) n.set(r.key!, (n.get(r.key!) ?? 0) + 1);
    return n;
  };
  async function startSkewedNode(): Promise<ChildServer> {
    const databaseUrl = (await testDatabaseUrl(nodes[0].dataDir))!;
    const child = await ChildServer.create({
      DATABASE_URL: databaseUrl,
      ECABINET_DATA_DIR: nodes[0].dataDir,
      ECABINET_NODE_ID: 'n4',
      SMTP_URL: sink.url,
      MAIL_FROM: FROM,
      APP_URL,
      ECABINET_SEED: 'never',
      ECABINET_TEST_CLOCK_SKEW_MS: String(SKEW_MS),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${path.join(import.meta.dirname, 'skewed-clock.mjs')}`.trim(),
    });
    await child.start();
    return child;
  }

  it('60 e-mail jobs polled by three nodes at once: each e-mail is sent exactly once', async () => {
    const prefix = `once:${Date.now()}:`;
    await enqueueMails(prefix, 60, -1000);
    await until(async () => (await jobsOf(prefix)).every((j) => j.status === 'done'), { timeout: 60_000, what: 'every job done' });
    const n = received(prefix);
    expect(n.size).toBe(60);
    expect([...n.values()].every((c) => c === 1)).toBe(true);
    const rows = await jobsOf(prefix);
    expect(rows.every((j) => j.attempts === 1 && /^runner-n[123]-/.test(j.claimedBy ?? ''))).toBe(true);
  });

  it('a node whose clock runs ten minutes ahead neither runs jobs early nor takes over a claim still alive', { timeout: 300_000 }, async () => {
    // Only the skewed node runs jobs in this test and the next.
    await Promise.all(nodes.map((n) => n.app.ctx.jobs.stop()));
    skewed = await startSkewedNode();
    // Due in five minutes by the database's clock: already due by the skewed node's.
    const early = `early:${Date.now()}:`;
    await enqueueMails(early, 10, 5 * 60_000);
    // A job another node claimed a second ago and is still working on (lease 60 s, the default), which the skewed
    // node's clock makes ten minutes old.
    const held = `held:${Date.now()}:`;
    await enqueueMails(held, 1, -60_000);
    await store()
      .q.update(jobs)
      .set({ status: 'claimed', claimedBy: 'runner-n1-alive', claimedAt: sql`now() - interval '1 second'`, attempts: 1 })
      .where(like(jobs.key, `${held}%`));
    // One job that is due: the skewed node runs it, so it does poll.
    const due = `due:${Date.now()}:`;
    await enqueueMails(due, 1, -1000);
    await until(async () => (await jobsOf(due))[0].status === 'done', { timeout: 30_000, what: 'the skewed node running a due job' });
    // And polls again (every 5 s, the default).
    await new Promise((r) => setTimeout(r, 6000));
    expect(received(early).size).toBe(0);
    expect((await jobsOf(early)).map((j) => j.status)).toEqual(Array(10).fill('pending'));
    const [h] = await jobsOf(held);
    expect([h.status, h.claimedBy, h.attempts]).toEqual(['claimed', 'runner-n1-alive', 1]);
    expect(received(held).size).toBe(0);
    expect(received(due).size).toBe(1);
    expect((await jobsOf(due))[0].claimedBy).toMatch(/^runner-n4-/);
    await store()
      .q.update(jobs)
      .set({ status: 'cancelled' })
      .where(inArray(jobs.key, [...(await jobsOf(early)), h].map((j) => j.key)));
  });

  it("a crashed node's claimed job is taken over once its lease expired, not before", { timeout: 300_000 }, async () => {
    // Only the skewed node runs jobs (since the test before); its send hangs (the SMTP server takes the message and never
    // answers), so it holds the claim when it is killed.
    await Promise.all(nodes.map((n) => n.app.ctx.jobs.stop()));
    skewed ??= await startSkewedNode();
    sink.holdFrom = sink.received.length;
    const crash = `crash:${Date.now()}:`;
    await enqueueMails(crash, 1, -1000);
    await until(() => sink.withKeyPrefix(crash).length === 1, { timeout: 30_000, what: 'the child sending' });
    const [claimed] = await jobsOf(crash);
    expect(claimed.claimedBy).toMatch(/^runner-n4-/);
    await skewed.kill9();
    skewed = null;
    sink.holdFrom = Infinity;
    const LEASE = 4000;
    const killedAt = Date.now();
    for (const n of nodes) {
      n.app.ctx.jobs.setOptions({ leaseMs: LEASE, intervalMs: 50 });
      n.app.ctx.jobs.start();
    }
    await until(async () => (await jobsOf(crash))[0].status === 'done', { timeout: 30_000, what: 'the job taken over' });
    const [done] = await jobsOf(crash);
    // Claimed by the child just before the kill: taken over no sooner than a lease after its claim.
    expect(Date.parse(done.doneAt!) - Date.parse(claimed.claimedAt!)).toBeGreaterThanOrEqual(LEASE - 50);
    expect(Date.now() - killedAt).toBeLessThan(LEASE + 20_000);
    expect(done.claimedBy).toMatch(/^runner-n[123]-/);
    expect(done.attempts).toBe(2);
    // External effects are at least once (server/jobs): the unanswered copy and the one that was answered, both with the key.
    expect(sink.withKeyPrefix(crash).map((r) => r.key)).toEqual([`${crash}0`, `${crash}0`]);
  });
});
