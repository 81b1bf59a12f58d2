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
});
export type Me = z.infer<typeof Me>;

export const UpdateMeBody = z.strictObject({ locale: Locale });
