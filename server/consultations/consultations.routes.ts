import { IdParams } from '../../shared/protocol/common.js';
import { AnswerConsultationBody, Consultation, ConsultationList, CreateConsultationBody } from '../../shared/protocol/consultations.js';
import type { AppContext } from '../context.js';
import { enqueueReminderMails } from '../mail/mail.service.js';
import { pdfPool } from '../documents/pdf.pool.js';
import {
  CONSULTATION_CLOSE_JOB,
  CONSULTATION_REMINDER_JOB,
  answerConsultation,
  createConsultation,
  getConsultation,
  listConsultations,
  reportData,
  runClose,
  runReminder,
} from './consultations.service.js';

/**
 * Written consultations over REST, and their durable jobs (reminders before the deadline, the close
 * at the deadline) on the app's job runner. Reminders are in-app notifications, plus an e-mail to
 * each reminded recipient with an address when SMTP is configured (server/mail).
 */
export function consultationRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const tags = ['consultations'];
  const runner = ctx.jobs;
  runner.register(CONSULTATION_REMINDER_JOB, {
    mode: 'transactional',
    // E-mails (when SMTP is configured) are queued in the reminder's own transaction.
    run: async (q, job) => enqueueReminderMails(ctx, q, job.key, await runReminder(ctx, job.payload), { kind: 'consultation_reminder', consultationId: Number(job.payload.consultationId) }),
  });
  runner.register(CONSULTATION_CLOSE_JOB, { mode: 'transactional', run: (_d, job) => runClose(ctx, job.payload) });
  api.route(
    { method: 'post', path: '/api/consultations', summary: 'Send a written consultation to a committee', tags, access: 'user', body: CreateConsultationBody, response: Consultation, status: 201 },
    ({ user, body }) => createConsultation(ctx, user, body),
  );
  api.route({ method: 'get', path: '/api/consultations', summary: 'Consultations sent to or managed by the caller', tags, access: 'user', response: ConsultationList }, async ({ user }) => ({
    consultations: await listConsultations(ctx, user),
  }));
  api.route({ method: 'get', path: '/api/consultations/:id', summary: 'One consultation', tags, access: 'user', params: IdParams, response: Consultation }, ({ user, params }) =>
    getConsultation(ctx, user, params.id),
  );
  api.route(
    { method: 'put', path: '/api/consultations/:id/answer', summary: 'Answer (or change the answer) until the deadline', tags, access: 'user', params: IdParams, body: AnswerConsultationBody, response: Consultation },
    ({ user, params, body }) => answerConsultation(ctx, user, params.id, body),
  );
  api.route(
    { method: 'get', path: '/api/consultations/:id/report.pdf', heavy: true, summary: 'After the deadline: the result and every comment as PDF', tags, access: 'user', params: IdParams, responseContentType: 'application/pdf' },
    async ({ user, params, res }) => {
      const pdf = await pdfPool(ctx.config).render('consultation', await reportData(ctx, user, params.id), ctx.log);
      res.setHeader('content-type', 'application/pdf');
      res.setHeader('content-disposition', `attachment; filename="consultation-${params.id}.pdf"`);
      res.send(pdf);
    },
  );
}
