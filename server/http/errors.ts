import type { ErrorCode } from '../../shared/protocol/common.js';

/**
 * A domain error with a stable code and an HTTP status. Services throw these;
 * the REST funnel and the socket wrapper turn them into `{ error: { code, message } }`.
 * Messages must never contain secrets, tokens or ballot choices.
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
