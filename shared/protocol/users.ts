import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { line } from './common.js';
import { Locale, SystemRole } from './auth.js';

export const Username = z
  .string()
  .trim()
  .min(2)
  .max(LIMITS.username)
  .regex(/^[a-z0-9._-]+$/, 'lowercase letters, digits, dot, dash and underscore only');

/** An e-mail address (reminders by e-mail). Stored as typed, trimmed; unique regardless of case. */
export const Email = z.string().trim().max(254).pipe(z.email());

export const User = z.object({
  id: z.number(),
  username: z.string(),
  fullName: z.string(),
  title: z.string().nullable(),
  unit: z.string().nullable(),
  systemRole: SystemRole,
  locale: Locale,
  active: z.boolean(),
  /** Only in administrators' views of the directory (personal data). */
  email: z.string().nullable().optional(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const CreateUserBody = z.strictObject({
  username: Username,
  password: z.string().min(LIMITS.password.min).max(LIMITS.password.max),
  fullName: line(LIMITS.name),
  title: line(LIMITS.title).nullable().optional(),
  unit: line(LIMITS.unit).nullable().optional(),
  systemRole: SystemRole.default('user'),
  locale: Locale.default('vi'),
  email: Email.nullable().optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z.strictObject({
  fullName: line(LIMITS.name).optional(),
  title: line(LIMITS.title).nullable().optional(),
  unit: line(LIMITS.unit).nullable().optional(),
  systemRole: SystemRole.optional(),
  active: z.boolean().optional(),
  password: z.string().min(LIMITS.password.min).max(LIMITS.password.max).optional(),
  /** null removes the address (in-app reminders only). */
  email: Email.nullable().optional(),
});
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const UserList = z.object({ users: z.array(User) });
