import crypto from 'node:crypto';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { createTransport } from 'nodemailer';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { isRecipientNow } from '../consultations/consultations.service.js';
import type { Q } from '../db/store.js';
import { consultationAnswers, consultations, meetings, tasks, users } from '../db/tables.js';
import { type JobRow, enqueueJob } from '../jobs/jobs.js';
import { ownsTask } from '../tasks/tasks.access.js';
import { type ReminderMailData, type ReminderMailKind, renderReminderMail } from './mail.templates.js';

/** Job kind of one e-mail to one user (mode `external`: at-least-once, deduplicated by Message-ID). */
export const MAIL_SEND_JOB = 'mail.send';

/**
 * What a `mail.send` job carries: ids only. The message is rendered from the database when it is
 * sent, so no address or content sits in the jobs table.
 */
export interface MailJobPayload {
  userId: number;
  kind: ReminderMailKind;
  taskId?: number;
  consultationId?: number;
}

/** True when SMTP_URL is set. Without it no e-mail job is ever enqueued. */
export function mailEnabled(config: Pick<Config, 'mail'>): boolean {
  return !!config.mail.smtpUrl;
}

/**
 * Schedules one e-mail per recipient who has an address, to go with an in-app reminder. Call it in
 * the reminder's own transaction (`q` its builder): the e-mails exist if and only if the reminder committed. The key
 * is `<reminderKey>:mail:<userId>`, so a reminder re-run cannot queue a second copy.
 * Does nothing when mail is disabled.
 * @returns how many e-mail jobs were created
 */
export async function enqueueReminderMails(
  ctx: Pick<AppContext, 'config' | 'jobs'>,
  q: Q,
  reminderKey: string,
  userIds: number[],
  about: Omit<MailJobPayload, 'userId'>,
): Promise<number> {
  if (!mailEnabled(ctx.config) || userIds.length === 0) return 0;
  const withAddress = await q
    .select({ id: users.id })
    .from(users)
    .where(and(inArray(users.id, userIds), isNotNull(users.email), eq(users.active, true)));
  const runAt = ctx.jobs.now();
  let created = 0;
  for (const { id } of withAddress) {
    const payload: MailJobPayload = { userId: id, ...about };
    if (await enqueueJob(q, { kind: MAIL_SEND_JOB, key: `${reminderKey}:mail:${id}`, runAt, payload: { ...payload } })) created++;
  }
  return created;
}

/** The domain part of the sender address (for Message-IDs); `localhost` if none can be read. */
export function senderDomain(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return m ? m[1].toLowerCase() : 'localhost';
}

/**
 * Message-ID of the e-mail sent for a job: a hash of the job key at the sender's domain. The same
 * job always yields the same id, so a copy re-sent after a crash (between the SMTP accept and the
 * job's done mark) is recognised as a duplicate by receiving servers and mail clients.
 */
export function messageIdFor(jobKey: string, from: string): string {
  const h = crypto.createHash('sha256').update(jobKey).digest('hex').slice(0, 40);
  return `<${h}.ecabinet@${senderDomain(from)}>`;
}

/** A send failure as we log and store it: SMTP codes only, never addresses or server text. */
export class MailSendError extends Error {
  /**
   * A 5xx SMTP reply (unknown mailbox, refused sender): retrying cannot help, so the job runner marks
   * the job failed at once instead of retrying it with backoff. 4xx replies and network errors retry.
   */
  readonly permanent: boolean;
  constructor(message: string, permanent = false) {
    super(message);
    this.name = 'MailSendError';
    this.permanent = permanent;
  }

  /** Keeps what helps diagnose (nodemailer code, SMTP reply code, errno) and drops the rest. */
  static from(err: unknown): MailSendError {
    const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; errno?: unknown; syscall?: unknown; originalCode?: unknown };
    const bits = [
      typeof e.code === 'string' ? e.code : null,
      typeof e.originalCode === 'string' ? e.originalCode : null,
      typeof e.responseCode === 'number' ? `smtp ${e.responseCode}` : null,
      typeof e.syscall === 'string' ? e.syscall : null,
    ].filter(Boolean);
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
    return new MailSendError(`e-mail not sent${bits.length ? `: ${bits.join(' ')}` : ''}`, permanent);
  }
}

/** The database as the mail service reads it. */
type MailDb = Pick<AppContext, 'store'>;

interface Recipient {
  email: string;
  fullName: string;
  locale: 'vi' | 'en';
}

/**
 * Loads what the e-mail says from the database, as it is now. Null when there is nothing to send:
 * the user was deactivated or lost their address, the task/consultation is gone, or — authorization
 * at the moment of use — the recipient is no longer the one the reminder was for: no longer an owner
 * of the open task (reassigned, moved to another unit), or no longer a current recipient of the
 * open consultation (removed from its committee) or already answered. An e-mail sent later (after a
 * retry, a slow queue) never carries a title to someone who lost access since it was queued.
 */
export async function loadReminderMail(ctx: MailDb, config: Pick<Config, 'mail'>, p: MailJobPayload): Promise<{ to: Recipient; data: ReminderMailData } | null> {
  const { store } = ctx;
  const [u] = await store.q
    .select({ id: users.id, username: users.username, email: users.email, fullName: users.fullName, title: users.title, unit: users.unit, systemRole: users.systemRole, locale: users.locale, active: users.active })
    .from(users)
    .where(eq(users.id, p.userId))
    .limit(1);
  if (!u || !u.active || !u.email) return null;
  const to = { email: u.email, fullName: u.fullName, locale: u.locale };
  if (p.kind === 'consultation_reminder') {
    const [c] = await store.q.select().from(consultations).where(eq(consultations.id, Number(p.consultationId))).limit(1);
    if (!c || c.state === 'closed' || !(await isRecipientNow(store, u.id, c))) return null;
    const [answered] = await store.q
      .select({ u: consultationAnswers.userId })
      .from(consultationAnswers)
      .where(and(eq(consultationAnswers.consultationId, c.id), eq(consultationAnswers.userId, u.id)))
      .limit(1);
    if (answered) return null;
    return { to, data: { kind: p.kind, fullName: u.fullName, title: c.title, deadline: c.deadline, link: `${config.mail.appUrl}/consultations` } };
  }
  const [t] = await store.q.select().from(tasks).where(eq(tasks.id, Number(p.taskId))).limit(1);
  if (!t || !OPEN_TASK.includes(t.status) || !(await ownsTask(store, u, t))) return null;
  const [m] = t.meetingId == null ? [] : await store.q.select({ title: meetings.title }).from(meetings).where(eq(meetings.id, t.meetingId)).limit(1);
  const meetingTitle = m?.title ?? null;
  return { to, data: { kind: p.kind, fullName: u.fullName, title: t.title, deadline: t.deadline, meetingTitle, link: `${config.mail.appUrl}/tasks` } };
}

/** Task states a reminder e-mail is still about (a cancelled or confirmed task needs none). */
const OPEN_TASK: string[] = ['open', 'in_progress', 'done_reported'];

/** The SMTP transport of an app (one per process, created on first send). */
export type MailTransport = ReturnType<typeof createTransport>;

/**
 * Builds the nodemailer SMTP transport from SMTP_URL. Timeouts stay well under the job lease, so a
 * hung server fails the attempt (retried later) instead of holding the claim.
 */
export function createMailTransport(config: Pick<Config, 'mail'>): MailTransport {
  if (!config.mail.smtpUrl) throw new Error('mail is disabled (no SMTP_URL)');
  return createTransport({ url: config.mail.smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 });
}

/**
 * Sends the e-mail of one `mail.send` job. Message-ID and `X-ECabinet-Key` come from the job key
 * (see `messageIdFor`). Throws `MailSendError` (no address, no server text) so the runner retries.
 */
export async function sendMailJob(ctx: MailDb, config: Pick<Config, 'mail'>, transport: MailTransport, job: Pick<JobRow, 'key' | 'payload'>): Promise<'sent' | 'skipped'> {
  const m = await loadReminderMail(ctx, config, job.payload as unknown as MailJobPayload);
  if (!m) return 'skipped';
  const body = renderReminderMail(m.data, m.to.locale);
  try {
    await transport.sendMail({
      from: config.mail.from,
      to: { name: m.to.fullName, address: m.to.email },
      subject: body.subject,
      text: body.text,
      html: body.html,
      messageId: messageIdFor(job.key, config.mail.from),
      headers: { 'X-ECabinet-Key': job.key, 'Auto-Submitted': 'auto-generated' },
    });
  } catch (err) {
    throw MailSendError.from(err);
  }
  return 'sent';
}

/**
 * Registers the `mail.send` job kind (the mail module's `register`) when SMTP is configured. Without
 * SMTP_URL nothing is registered and nothing is enqueued: the app behaves as before.
 */
export function mailJobs(ctx: AppContext): void {
  if (!mailEnabled(ctx.config)) return;
  const log = ctx.log.child({ module: 'mail' });
  let transport: MailTransport | null = null;
  ctx.jobs.register(MAIL_SEND_JOB, {
    mode: 'external',
    run: async (job) => {
      transport ??= createMailTransport(ctx.config);
      const result = await sendMailJob(ctx, ctx.config, transport, job);
      // Ids only: the address and the text are personal data.
      log.info({ jobId: job.id, userId: (job.payload as { userId?: number }).userId, result }, 'reminder e-mail');
    },
  });
}
