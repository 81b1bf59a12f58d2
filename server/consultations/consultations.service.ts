import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { AnswerConsultationBody, Consultation, ConsultationDocument, CreateConsultationBody } from '../../shared/protocol/consultations.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { committeeMembers, committees, consultationAnswers, consultationRecipients, consultations, documentVersions, documentViewers, documents, meetings, users } from '../db/tables.js';
import { documentAccess } from '../documents/documents.access.js';
import { AppError, badRequest, forbidden, notFound } from '../http/errors.js';
import { enqueueJob } from '../jobs/jobs.js';
import { isCommitteeSecretary } from '../meetings/meetings.access.js';

type Row = typeof consultations.$inferSelect;

export const CONSULTATION_REMINDER_JOB = 'consultation.reminder';
export const CONSULTATION_CLOSE_JOB = 'consultation.close';
/** Reminders go out this long before the deadline (those already past at sending are skipped). */
export const REMINDER_OFFSETS_MS = [24 * 3600_000, 3600_000];

const listedWhere = (userId: number, c: Pick<Row, 'id'>) => and(eq(consultationRecipients.consultationId, c.id), eq(consultationRecipients.userId, userId));
const memberWhere = (userId: number, c: Pick<Row, 'committeeId'>) => and(eq(committeeMembers.committeeId, c.committeeId), eq(committeeMembers.userId, userId));

/**
 * True when `userId` is a recipient of the consultation NOW: listed when it was sent AND still a
 * member of its committee. Checked at every use (reading, answering, reminders, e-mails, the
 * documents it carries), so a member removed from the committee after the sending loses it at once.
 */
export async function isRecipientNow(store: Store, userId: number, c: Pick<Row, 'id' | 'committeeId'>): Promise<boolean> {
  const listed = await store.q.select({ u: consultationRecipients.userId }).from(consultationRecipients).where(listedWhere(userId, c)).limit(1);
  if (listed.length === 0) return false;
  const member = await store.q.select({ u: committeeMembers.userId }).from(committeeMembers).where(memberWhere(userId, c)).limit(1);
  return member.length > 0;
}

/** Who the caller is for a consultation; not visible → not_found. */
async function role(store: Store, user: AuthUser, c: Row): Promise<{ manage: boolean; recipient: boolean }> {
  const manage = user.systemRole === 'admin' || (await isCommitteeSecretary(store, user.id, c.committeeId));
  const recipient = await isRecipientNow(store, user.id, c);
  if (!manage && !recipient) throw notFound('Consultation');
  return { manage, recipient };
}

/** True when `user` may see consultation `id` now (its managers and current recipients). */
export async function consultationVisible(store: Store, user: AuthUser, id: number): Promise<boolean> {
  const [c] = await store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c) return false;
  try {
    await role(store, user, c);
    return true;
  } catch {
    return false;
  }
}

const isClosed = (c: Row, now = Date.now()) => c.state === 'closed' || Date.parse(c.deadline) <= now;

/**
 * Sends a question to a committee: recipients are notified in the app, reminders and the close are
 * scheduled as durable jobs (server/jobs) in the same transaction.
 * @throws not_found (committee), forbidden (not its secretary), invalid_payload (past deadline, unknown recipient/document)
 */
export async function createConsultation(ctx: AppContext, user: AuthUser, body: CreateConsultationBody): Promise<Consultation> {
  const { store } = ctx;
  const [committee] = await store.q.select().from(committees).where(eq(committees.id, body.committeeId)).limit(1);
  if (!committee) throw notFound('Committee');
  if (user.systemRole !== 'admin' && !(await isCommitteeSecretary(store, user.id, committee.id))) throw forbidden('Only the committee secretary may send a consultation');
  const deadline = Date.parse(body.deadline);
  if (deadline <= Date.now() + 1000) throw badRequest('The deadline must be in the future');
  const members = await store.q.select().from(committeeMembers).where(eq(committeeMembers.committeeId, committee.id));
  const recipients = body.recipients ?? members.filter((m) => m.votingRight && m.defaultRole !== 'guest').map((m) => m.userId);
  const known = new Set(members.map((m) => m.userId));
  if (!recipients.length || recipients.some((r) => !known.has(r))) throw badRequest('Recipients must be members of the committee');
  await checkDocuments(ctx, user, committee.id, [...new Set(body.documentIds)], [...new Set(recipients)]);
  const row = await store.tx(async (q) => {
    const [c] = await q
      .insert(consultations)
      .values({ committeeId: committee.id, title: body.title, question: body.question, documentIds: [...new Set(body.documentIds)], deadline: new Date(deadline).toISOString(), createdBy: user.id })
      .returning();
    await q.insert(consultationRecipients).values([...new Set(recipients)].map((userId) => ({ consultationId: c.id, userId })));
    for (const off of REMINDER_OFFSETS_MS) {
      if (deadline - off > Date.now()) await enqueueJob(q, { kind: CONSULTATION_REMINDER_JOB, key: `consultation:${c.id}:reminder:${off}`, runAt: new Date(deadline - off), payload: { consultationId: c.id } });
    }
    await enqueueJob(q, { kind: CONSULTATION_CLOSE_JOB, key: `consultation:${c.id}:close`, runAt: new Date(deadline), payload: { consultationId: c.id } });
    await ctx.notifier.notify(q, [...new Set(recipients)], 'consultation_sent', null, { consultationId: c.id, title: c.title, deadline: c.deadline });
    await audit(q, { actorId: user.id, action: 'consultation.sent', targetType: 'consultation', targetId: c.id, details: { committeeId: committee.id, recipients: recipients.length, deadline: c.deadline } });
    return c;
  });
  ctx.notifier.flush();
  return view(ctx, user, row);
}

/**
 * Documents a consultation may carry. Sending one is what lets its recipients read it
 * (`consultationGrant` in server/documents/documents.access.ts), so each must be a document the
 * sender may see, of a meeting of this committee (no carrying another committee's papers across),
 * and published. The document's own access still rules: one shared with named people may go only
 * to recipients it names; a confidential one never opens through a consultation, so it may be
 * attached only when every recipient may already see it in its meeting (so the list shows it to them).
 * @throws invalid_payload (unknown / not visible / other committee), document_not_published, document_restricted, document_confidential (422)
 */
async function checkDocuments(ctx: AppContext, sender: AuthUser, committeeId: number, documentIds: number[], recipients: number[]): Promise<void> {
  if (!documentIds.length) return;
  const { store } = ctx;
  const rows = await store.q
    .select({ id: documents.id, committeeId: meetings.committeeId })
    .from(documents)
    .innerJoin(meetings, eq(meetings.id, documents.meetingId))
    .where(inArray(documents.id, documentIds));
  const confidential: number[] = [];
  const named: number[] = [];
  for (const id of documentIds) {
    const row = rows.find((r) => r.id === id);
    let a;
    try {
      a = await documentAccess(store, sender, id);
    } catch {
      throw badRequest('Unknown document', { documentId: id });
    }
    if (!row || row.committeeId !== committeeId) throw badRequest('Documents must belong to meetings of this committee', { documentId: id });
    if (!a.document.published) throw new AppError('document_not_published', 'Publish the document before sending it', 422, { documentId: id });
    if (a.confidential) confidential.push(id);
    else if (a.document.access === 'named') named.push(id);
  }
  // A document shared with named people follows its own list: it may travel only to recipients it names.
  for (const id of named) {
    const viewers = new Set((await store.q.select({ u: documentViewers.userId }).from(documentViewers).where(eq(documentViewers.documentId, id))).map((r) => r.u));
    const outside = recipients.filter((r) => !viewers.has(r));
    if (outside.length)
      throw new AppError('document_restricted', 'A document shared with named people may be sent only to recipients it names', 422, { documentId: id, recipients: outside });
  }
  if (!confidential.length) return;
  const people = await store.q.select().from(users).where(inArray(users.id, recipients));
  for (const id of confidential) {
    const blind: typeof people = [];
    for (const p of people) {
      try {
        await documentAccess(store, { id: p.id, username: p.username, fullName: p.fullName, title: p.title, unit: p.unit, systemRole: p.systemRole, locale: p.locale }, id);
      } catch {
        blind.push(p);
      }
    }
    if (blind.length)
      throw new AppError('document_confidential', 'A confidential document may be sent only to recipients who may already see it', 422, { documentId: id, recipients: blind.map((p) => p.id) });
  }
}

/** The attached documents the caller may open (as a manager, a meeting participant, or a recipient). */
async function documentsFor(ctx: AppContext, user: AuthUser, ids: number[]): Promise<ConsultationDocument[]> {
  const { store } = ctx;
  const out: ConsultationDocument[] = [];
  for (const id of ids) {
    try {
      const a = await documentAccess(store, user, id, { consultations: true });
      const [m] = await store.q.select({ title: meetings.title }).from(meetings).where(eq(meetings.id, a.document.meetingId)).limit(1);
      const [v] = a.document.currentVersionId
        ? await store.q.select({ pages: documentVersions.pageCount }).from(documentVersions).where(eq(documentVersions.id, a.document.currentVersionId)).limit(1)
        : [];
      out.push({ id, title: a.document.title, meetingId: a.document.meetingId, meetingTitle: m?.title ?? '', access: a.document.access, pageCount: v?.pages ?? null });
    } catch {
      /* removed, unpublished or made confidential since: not listed */
    }
  }
  return out;
}

/** Records (or changes, until the deadline) the caller's answer. @throws not_found, forbidden, consultation_closed */
export async function answerConsultation(ctx: AppContext, user: AuthUser, id: number, body: AnswerConsultationBody): Promise<Consultation> {
  const { store } = ctx;
  const [c] = await store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c) throw notFound('Consultation');
  const r = await role(store, user, c);
  if (!r.recipient) throw forbidden('Only the members consulted may answer');
  if (isClosed(c)) throw new AppError('consultation_closed', 'The deadline has passed', 409);
  const now = new Date().toISOString();
  await store.tx(async (q) => {
    await q
      .insert(consultationAnswers)
      .values({ consultationId: id, userId: user.id, answer: body.answer, comment: body.comment.trim(), answeredAt: now })
      .onConflictDoUpdate({ target: [consultationAnswers.consultationId, consultationAnswers.userId], set: { answer: body.answer, comment: body.comment.trim(), answeredAt: now } });
    await audit(q, { actorId: user.id, action: 'consultation.answered', targetType: 'consultation', targetId: id, details: { answer: body.answer } });
  });
  return view(ctx, user, c);
}

export async function getConsultation(ctx: AppContext, user: AuthUser, id: number): Promise<Consultation> {
  const [c] = await ctx.store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c) throw notFound('Consultation');
  return view(ctx, user, c);
}

/** Consultations the caller was sent, or manages; newest first. */
export async function listConsultations(ctx: AppContext, user: AuthUser): Promise<Consultation[]> {
  const { store } = ctx;
  const mine = (await store.q.select({ id: consultationRecipients.consultationId }).from(consultationRecipients).where(eq(consultationRecipients.userId, user.id))).map((r) => r.id);
  const managed =
    user.systemRole === 'admin'
      ? null
      : (await store.q
          .select({ id: committeeMembers.committeeId })
          .from(committeeMembers)
          .where(and(eq(committeeMembers.userId, user.id), eq(committeeMembers.defaultRole, 'secretary')))).map((r) => r.id);
  const rows = await store.q.select().from(consultations).orderBy(desc(consultations.id)).limit(200);
  // A recipient removed from the committee since the sending no longer sees it (`isRecipientNow`).
  const list: Consultation[] = [];
  for (const c of rows) {
    if (managed === null || managed.includes(c.committeeId) || (mine.includes(c.id) && (await isRecipientNow(store, user.id, c)))) list.push(await view(ctx, user, c));
  }
  return list;
}

/** Everything the report needs: the consultation, its recipients and every answer. */
export async function reportData(ctx: AppContext, user: AuthUser, id: number) {
  const { store } = ctx;
  const [c] = await store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c) throw notFound('Consultation');
  await role(store, user, c);
  if (!isClosed(c)) throw new AppError('consultation_open', 'The report is available after the deadline', 409);
  const [committee] = await store.q.select().from(committees).where(eq(committees.id, c.committeeId)).limit(1);
  const recipients = await store.q
    .select({ userId: users.id, fullName: users.fullName, title: users.title, unit: users.unit })
    .from(consultationRecipients)
    .innerJoin(users, eq(users.id, consultationRecipients.userId))
    .where(eq(consultationRecipients.consultationId, id))
    .orderBy(asc(users.fullName));
  return { consultation: c, committeeName: committee!.name, recipients, answers: await answersOf(store, id) };
}

/** What the report PDF is rendered from (server/consultations/consultations.pdf.ts). */
export type ConsultationReportData = Awaited<ReturnType<typeof reportData>>;

function answersOf(store: Store, id: number) {
  return store.q
    .select({ userId: consultationAnswers.userId, fullName: users.fullName, answer: consultationAnswers.answer, comment: consultationAnswers.comment, answeredAt: consultationAnswers.answeredAt })
    .from(consultationAnswers)
    .innerJoin(users, eq(users.id, consultationAnswers.userId))
    .where(eq(consultationAnswers.consultationId, id))
    .orderBy(asc(users.fullName));
}

async function view(ctx: AppContext, user: AuthUser, c: Row): Promise<Consultation> {
  const { store } = ctx;
  const r = await role(store, user, c);
  const closed = isClosed(c);
  const answers = await answersOf(store, c.id);
  const recipients = (await store.q.select({ u: consultationRecipients.userId }).from(consultationRecipients).where(eq(consultationRecipients.consultationId, c.id))).length;
  const seeAll = r.manage || closed;
  const count = (k: string) => answers.filter((a) => a.answer === k).length;
  return {
    id: c.id,
    committeeId: c.committeeId,
    title: c.title,
    question: c.question,
    documentIds: c.documentIds,
    documents: await documentsFor(ctx, user, c.documentIds),
    deadline: c.deadline,
    state: closed ? 'closed' : 'open',
    closedAt: c.closedAt,
    createdAt: c.createdAt,
    recipients,
    mine: answers.find((a) => a.userId === user.id) ?? null,
    canAnswer: r.recipient && !closed,
    counts: seeAll ? { agree: count('agree'), disagree: count('disagree'), other: count('other'), none: recipients - answers.length } : null,
    answers: seeAll ? answers : null,
  };
}

/**
 * Job: remind, in the app, every recipient who has not answered yet. Returns who was reminded, so
 * the caller can queue the e-mails (server/mail) in the same transaction.
 */
export async function runReminder(ctx: AppContext, payload: Record<string, unknown>): Promise<number[]> {
  const { store } = ctx;
  const id = Number(payload.consultationId);
  const [c] = await store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c || c.state === 'closed') return [];
  const answered = new Set((await store.q.select({ u: consultationAnswers.userId }).from(consultationAnswers).where(eq(consultationAnswers.consultationId, id))).map((r) => r.u));
  // Recipients removed from the committee since the sending are no longer reminded (nor e-mailed).
  const pending = (await currentRecipients(store, c)).filter((u) => !answered.has(u));
  await ctx.notifier.notify(store.q, pending, 'consultation_reminder', null, { consultationId: id, title: c.title, deadline: c.deadline });
  return pending;
}

/** Job: at the deadline, close and tell every recipient and the sender that the result is ready. */
export async function runClose(ctx: AppContext, payload: Record<string, unknown>): Promise<void> {
  const { store } = ctx;
  const id = Number(payload.consultationId);
  const [c] = await store.q.select().from(consultations).where(eq(consultations.id, id)).limit(1);
  if (!c || c.state === 'closed') return;
  await store.q.update(consultations).set({ state: 'closed', closedAt: new Date().toISOString() }).where(eq(consultations.id, id));
  const recipients = await currentRecipients(store, c);
  await ctx.notifier.notify(store.q, [...new Set([...recipients, ...(c.createdBy ? [c.createdBy] : [])])], 'consultation_closed', null, { consultationId: id, title: c.title });
  const answers = (await store.q.select().from(consultationAnswers).where(eq(consultationAnswers.consultationId, id))).length;
  await audit(store.q, { actorId: null, action: 'consultation.closed', targetType: 'consultation', targetId: id, details: { answers } });
}

/** The consultation's recipients still members of its committee. */
async function currentRecipients(store: Store, c: Row): Promise<number[]> {
  const rows = await store.q
    .select({ u: consultationRecipients.userId })
    .from(consultationRecipients)
    .innerJoin(committeeMembers, and(eq(committeeMembers.committeeId, c.committeeId), eq(committeeMembers.userId, consultationRecipients.userId)))
    .where(eq(consultationRecipients.consultationId, c.id));
  return rows.map((r) => r.u);
}
