import { z } from 'zod';
import { LIMITS } from '../limits.js';

export const Locale = z.enum(['vi', 'en']);
export type Locale = z.infer<typeof Locale>;

/** Instance-wide role. Committee and meeting roles are separate (see meetings.ts). */
export const SystemRole = z.enum(['admin', 'user']);
export type SystemRole = z.infer<typeof SystemRole>;

export const LoginBody = z.strictObject({
  username: z.string().trim().min(1).max(LIMITS.username),
  password: z.string().min(1).max(LIMITS.password.max),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** The signed-in user as the client sees it. */
export const Me = z.object({
  id: z.number(),
  username: z.string(),
  fullName: z.string(),
  title: z.string().nullable(),
  unit: z.string().nullable(),
  systemRole: SystemRole,
  locale: Locale,
  /** Where my reminders are e-mailed (set by an administrator); null = none. */
  email: z.string().nullable().optional(),
  /** Committees in which this user may prepare meetings (secretary) — drives the UI. */
  secretaryOf: z.array(z.number()),
  /**
   * What this session must do before anything else (null = nothing): change the password an
   * administrator reset, give the TOTP code of this sign-in, or enrol a second factor the policy requires.
   */
  restriction: z.enum(['password_change_required', 'mfa_required', 'mfa_enrolment_required']).nullable(),
  /** A TOTP second factor is enrolled. */
  mfaEnabled: z.boolean(),
  /** The policy requires a second factor for this user (it cannot be turned off). */
  mfaRequired: z.boolean(),
});
export type Me = z.infer<typeof Me>;

/** Self-service password change: the current password, and a new one meeting the policy (≥ 12 characters, not guessable). */
export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(LIMITS.password.max),
  newPassword: z.string().min(1).max(LIMITS.password.max),
});

/** A 6-digit TOTP code. */
export const TotpCodeBody = z.strictObject({ code: z.string().regex(/^\d{6}$/, 'six digits') });

/** Turning the second factor off needs the password and a current code. */
export const DisableMfaBody = z.strictObject({ password: z.string().min(1).max(LIMITS.password.max), code: z.string().regex(/^\d{6}$/, 'six digits') });

/** The secret to type or import into an authenticator app (shown once, while enrolling). */
export const MfaEnrolment = z.object({ secret: z.string(), otpauthUri: z.string() });

/** One of my sessions (`id`: the first 16 hex characters of its token hash). */
export const SessionInfo = z.object({
  id: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean(),
  pendingSecondFactor: z.boolean(),
});
export const SessionList = z.object({ sessions: z.array(SessionInfo) });
export type SessionList = z.infer<typeof SessionList>;
export const SessionParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/) });

export const UpdateMeBody = z.strictObject({ locale: Locale });
