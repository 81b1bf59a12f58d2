import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, IsoDateTime, line, text } from './common.js';

/** Written consultations (lấy ý kiến bằng văn bản): a question to a committee, answered by a deadline. */
export const CONSULTATION_LIMITS = { comment: 5_000, documents: 20, recipients: LIMITS.participantsPerMeeting } as const;

export const ConsultationAnswerKind = z.enum(['agree', 'disagree', 'other']);
export type ConsultationAnswerKind = z.infer<typeof ConsultationAnswerKind>;

export const CreateConsultationBody = z.strictObject({
  committeeId: Id,
  title: line(LIMITS.title),
  question: text().refine((s) => s.trim().length > 0, 'must not be empty'),
  /**
   * Documents sent with the question: published documents of this committee's meetings that the
   * sender may see. A confidential one only when every recipient may already see it in its meeting.
   */
  documentIds: z.array(Id).max(CONSULTATION_LIMITS.documents).default([]),
  /** Must be in the future. */
  deadline: IsoDateTime,
  /** Omitted: every committee member with a voting right. */
  recipients: z.array(Id).min(1).max(CONSULTATION_LIMITS.recipients).optional(),
});
export type CreateConsultationBody = z.infer<typeof CreateConsultationBody>;

export const AnswerConsultationBody = z
  .strictObject({ answer: ConsultationAnswerKind, comment: text(CONSULTATION_LIMITS.comment).default('') })
  .refine((a) => a.answer !== 'other' || a.comment.trim().length > 0, { message: 'an other opinion needs a comment', path: ['comment'] });
export type AnswerConsultationBody = z.infer<typeof AnswerConsultationBody>;

/** A document sent with a consultation, as the caller may open it (`/documents/<id>`). */
export const ConsultationDocument = z.object({
  id: z.number(),
  title: z.string(),
  meetingId: z.number(),
  meetingTitle: z.string(),
  access: z.enum(['all', 'named', 'confidential']),
  pageCount: z.number().nullable(),
});
export type ConsultationDocument = z.infer<typeof ConsultationDocument>;

export const ConsultationAnswer = z.object({ userId: z.number(), fullName: z.string(), answer: ConsultationAnswerKind, comment: z.string(), answeredAt: z.string() });

export const Consultation = z.object({
  id: z.number(),
  committeeId: z.number(),
  title: z.string(),
  question: z.string(),
  documentIds: z.array(z.number()),
  /** The attached documents the caller may open (recipients may, through the consultation; see docs/PROTOCOL.md). */
  documents: z.array(ConsultationDocument),
  deadline: z.string(),
  state: z.enum(['open', 'closed']),
  closedAt: z.string().nullable(),
  createdAt: z.string(),
  recipients: z.number(),
  /** The caller's own answer, if any. */
  mine: ConsultationAnswer.nullable(),
  canAnswer: z.boolean(),
  /** Counts (secretary at any time; everyone after the close). */
  counts: z.object({ agree: z.number(), disagree: z.number(), other: z.number(), none: z.number() }).nullable(),
  /** Every answer with its comment (secretary at any time; recipients after the close). */
  answers: z.array(ConsultationAnswer).nullable(),
});
export type Consultation = z.infer<typeof Consultation>;
export const ConsultationList = z.object({ consultations: z.array(Consultation) });
