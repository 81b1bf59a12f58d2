import { z } from 'zod';
import { Id, PathId, UrlInt } from './common.js';

/** A run of text with emphasis, inside a paragraph, list item or table cell. */
export const MinutesRun = z.object({ text: z.string(), b: z.boolean().optional(), i: z.boolean().optional() });
export type MinutesRun = z.infer<typeof MinutesRun>;

/**
 * The frozen content model of minutes: what the PDF renderer draws and what a version stores.
 * Generated sections and the secretaries' free text are both converted into these blocks.
 */
export const MinutesBlock = z.discriminatedUnion('t', [
  z.object({ t: z.literal('h'), level: z.number().int().min(1).max(3), text: z.string() }),
  z.object({ t: z.literal('p'), runs: z.array(MinutesRun), indent: z.boolean().optional() }),
  z.object({ t: z.literal('ul'), items: z.array(z.array(MinutesRun)) }),
  z.object({ t: z.literal('ol'), items: z.array(z.array(MinutesRun)) }),
  z.object({ t: z.literal('table'), rows: z.array(z.array(z.string())), header: z.boolean().optional() }),
]);
export type MinutesBlock = z.infer<typeof MinutesBlock>;

/** Everything the biên bản layout needs besides the body. */
export const MinutesDocument = z.object({
  /** Upper issuing body (cơ quan chủ quản), e.g. "UBND THÀNH PHỐ HÀ NỘI". */
  parentBody: z.string(),
  /** Issuing body (cơ quan ban hành), e.g. the committee's name. */
  issuingBody: z.string(),
  /** "01/BB-BCĐ". */
  number: z.string(),
  place: z.string(),
  /** ISO date-time of the meeting (the place-and-date line uses its date in Asia/Ho_Chi_Minh). */
  date: z.string(),
  /** Line under BIÊN BẢN: the meeting's title. */
  subject: z.string(),
  blocks: z.array(MinutesBlock),
  chair: z.object({ name: z.string(), title: z.string().nullable() }),
  secretary: z.object({ name: z.string(), title: z.string().nullable() }),
});
export type MinutesDocument = z.infer<typeof MinutesDocument>;

/** The name of a meeting's minutes document on the Yjs hub. */
export const minutesDocName = (meetingId: number) => `minutes:${meetingId}`;
/** Y.XmlFragment of the minutes doc holding the secretaries' free text (TipTap/ProseMirror). */
export const MINUTES_FREE_TEXT = 'body';
/** Y.Map of the minutes doc the server writes generated sections into (clients never write it). */
export const MINUTES_GENERATED = 'generated';

export const MinutesVersionParams = z.strictObject({ id: PathId, version: UrlInt(1) });

export const SignMinutesBody = z.strictObject({
  /** Signing PIN (never logged, never stored). */
  pin: z.string().min(4).max(64),
  /**
   * SHA-256 (hex) of the content the signer reviewed (`contentHash` of the version); a version that
   * was superseded or changed meanwhile is refused with 409 version_changed.
   */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SignMinutesBody = z.infer<typeof SignMinutesBody>;

export const MinutesSignature = z.object({ role: z.enum(['chair', 'secretary']), userId: z.number(), fullName: z.string(), certSubject: z.string(), signedAt: z.string() });

export const MinutesVersion = z.object({
  id: z.number(),
  meetingId: z.number(),
  version: z.number(),
  number: z.string(),
  status: z.enum(['finalized', 'signed', 'superseded']),
  pdfHash: z.string(),
  contentHash: z.string(),
  finalizedAt: z.string(),
  publishedAt: z.string().nullable(),
  signatures: z.array(MinutesSignature),
  acknowledgements: z.array(z.object({ userId: z.number(), fullName: z.string(), at: z.string() })),
  /** Whether the caller acknowledged this version. */
  acknowledgedByMe: z.boolean(),
  content: z.array(MinutesBlock),
});
export type MinutesVersion = z.infer<typeof MinutesVersion>;

export const MinutesState = z.object({
  meetingId: z.number(),
  /** The caller may edit, finalize and publish (meeting secretary / manager). */
  canEdit: z.boolean(),
  /** The caller's signing role in this meeting, if any. */
  signAs: z.enum(['chair', 'secretary']).nullable(),
  docName: z.string(),
  versions: z.array(MinutesVersion.omit({ content: true })),
});
export type MinutesState = z.infer<typeof MinutesState>;
