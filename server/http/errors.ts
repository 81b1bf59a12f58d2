import type { NextFunction, Request, Response } from 'express';
import { type ErrorCode, isErrorCode } from '../../shared/protocol/errors.js';
import type { Logger } from '../log.js';

/**
 * A domain error with a stable code (one of the closed list in shared/protocol/errors.ts) and an
 * HTTP status. Services throw these; the REST funnel below and the socket wrapper turn them into
 * `{ error: { code, message } }`. Messages must never contain secrets, tokens or ballot choices.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 400,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError('invalid_payload', message, 400, details);
export const unauthenticated = (message = 'Sign in first') => new AppError('unauthenticated', message, 401);
export const forbidden = (message = 'You may not do this') => new AppError('forbidden', message, 403);
/** Also used when a resource exists but the caller may not know it does. */
export const notFound = (what = 'Resource') => new AppError('not_found', `${what} not found`, 404);
export const conflict = (code: ErrorCode, message: string) => new AppError(code, message, 409);
export const invalidState = (message: string) => new AppError('invalid_state', message, 409);
/** Heavy work (exports, PDF rendering) refused because its queue is full; retry later. */
export const busy = (message = 'The server is busy; try again in a moment') => new AppError('busy', message, 503);

/**
 * Turns anything thrown into an `AppError` with a code of the closed list: body-parser and other
 * http-errors become `payload_too_large` / `invalid_json` / `invalid_payload` / `not_found`; an
 * `AppError` whose code is not in the list (only possible through a cast) and every other error
 * become `internal` (500, logged, no details leave the server).
 */
export function toAppError(err: unknown, log?: Logger): AppError {
  if (err instanceof AppError) {
    if (isErrorCode(err.code) && err.status >= 400 && err.status < 600) return err;
    log?.error({ err, code: err.code }, 'error code outside the closed list');
    return new AppError('internal', 'Internal error', 500);
  }
  if (isBodyParserError(err)) {
    return err.type === 'entity.too.large'
      ? new AppError('payload_too_large', 'Request body too large', 413)
      : err.type === 'entity.parse.failed'
        ? new AppError('invalid_json', 'Malformed JSON body', 400)
        : new AppError('invalid_payload', 'Unreadable request body', err.status && err.status < 500 ? err.status : 400);
  }
  if (isHttpError(err)) {
    return new AppError(err.status === 404 ? 'not_found' : 'invalid_payload', err.status === 404 ? 'Not found' : 'Bad request', err.status);
  }
  log?.error({ err }, 'unhandled error');
  return new AppError('internal', 'Internal error', 500);
}

/** The REST error funnel: every error leaves as `{ error: { code, message, details? } }` with its status. */
export function errorFunnel(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toAppError(err, req.log ?? log);
    if (res.headersSent) return res.end();
    res.setHeader('cache-control', 'no-store');
    // The request id (also in the X-Request-Id header and every log line of the request) lets support find the logs.
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}), ...(requestId ? { requestId } : {}) } });
  };
}

function isBodyParserError(err: unknown): err is { type: string; status?: number } {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}
function isHttpError(err: unknown): err is { status: number } {
  const s = (err as { status?: unknown })?.status;
  return typeof s === 'number' && s >= 400 && s < 500;
}
