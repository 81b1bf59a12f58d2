import { z } from 'zod';
import { LIMITS } from '../limits.js';

/** A database id as it appears in URLs and payloads: a positive safe integer. */
export const Id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export type Id = z.infer<typeof Id>;

/** Path parameters `:id`. */
export const IdParams = z.strictObject({ id: Id });

/** Trimmed single-line text with a maximum length; control characters are refused. */
export const line = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/** Multi-line free text (descriptions): newlines and tabs allowed. */
export const text = (max: number = LIMITS.description) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, 'must not contain control characters');

/** ISO 8601 date-time with an offset, e.g. 2026-12-01T08:00:00+07:00. */
export const IsoDateTime = z.iso.datetime({ offset: true });

/** The one error shape of every REST response and failed acknowledgement. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Stable error codes; clients switch on these, never on messages. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_payload',
  'unsupported_media_type',
  'payload_too_large',
  'unauthenticated',
  'forbidden',
  'csrf',
  'not_found',
  'conflict',
  'version_conflict',
  'invalid_move',
  'rate_limited',
  'invalid_credentials',
  'account_disabled',
  'invalid_state',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number] | (string & {});

/** Acknowledgement of every socket command. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string } };

export const Ok = z.object({ ok: z.literal(true) });
