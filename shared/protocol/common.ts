import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { ERROR_CODES } from './errors.js';

/**
 * A database id in a JSON body or socket payload: a positive safe integer given as a JSON number.
 * Never coerced: `"2"`, `true`, `[1]`, `1.0e0` as a string, `null` are refused (`invalid_payload`).
 */
export const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export type Id = z.infer<typeof Id>;

/**
 * The only spelling of an id in a URL (path segment or query string): decimal digits, no sign, no
 * leading zero, no spaces, no exponent, no fraction, at most 16 digits — and a safe integer.
 * "1.0", " 1", "0x1", "1e0", "+1", "01" are refused.
 */
export const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/** An id in a URL path or query string (a string by nature), parsed strictly to a number. */
export const PathId = z
  .string()
  .regex(ID_PATTERN, 'must be a positive whole number without sign, spaces or leading zeros')
  .transform(Number)
  .pipe(Id);

/**
 * A whole number in a URL (page number, version, limit): digits only (`0` alone allowed when `min`
 * is 0), no sign, no leading zero, parsed strictly, within [min, max].
 */
export const UrlInt = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(min <= 0 ? /^(0|[1-9][0-9]{0,15})$/ : ID_PATTERN, 'must be a whole number without sign, spaces or leading zeros')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Path parameters `:id`. */
export const IdParams = z.strictObject({ id: PathId });

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
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export { ERROR_CODES, type ErrorCode, isErrorCode } from './errors.js';
import type { ErrorCode } from './errors.js';

/** Acknowledgement of every socket command. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };

export const Ok = z.object({ ok: z.literal(true) });
