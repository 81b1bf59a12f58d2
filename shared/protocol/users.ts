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

export const User = z.object({
  id: z.number(),
  username: z.string(),
  fullName: z.string(),
  title: z.string().nullable(),
  unit: z.string().nullable(),
  systemRole: SystemRole,
  locale: Locale,
  active: z.boolean(),
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
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z.strictObject({
  fullName: line(LIMITS.name).optional(),
  title: line(LIMITS.title).nullable().optional(),
  unit: line(LIMITS.unit).nullable().optional(),
  systemRole: SystemRole.optional(),
  active: z.boolean().optional(),
  password: z.string().min(LIMITS.password.min).max(LIMITS.password.max).optional(),
});
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const UserList = z.object({ users: z.array(User) });
