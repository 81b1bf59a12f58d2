import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { IdParams } from '../../shared/protocol/common.js';
import { CreateUserBody, UpdateUserBody, User, UserList } from '../../shared/protocol/users.js';
import { audit } from '../audit/audit.repo.js';
import { insertUser, updateUser } from '../auth/accounts.service.js';
import { hashPassword } from '../auth/password.js';
import { assertStrongPassword } from '../auth/password-policy.js';
import { endUserSessions, secretaryOf } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { users } from '../db/tables.js';
import { badRequest, conflict, forbidden, notFound } from '../http/errors.js';

/** A user row without secrets (password hash, TOTP secret). */
const publicUser = ({ passwordHash: _h, totpSecret: _t, totpLastStep: _s, ...u }: typeof users.$inferSelect) => u;
/** The directory as a committee secretary sees it: no e-mail addresses (personal data). */
const directoryUser = ({ email: _e, ...u }: ReturnType<typeof publicUser>) => u;

/** Refuses an address another account already has (compared case-insensitively, like the unique index). */
async function assertEmailFree(store: Store, email: string | null | undefined, exceptUserId?: number): Promise<void> {
  if (email == null) return;
  const same = sql`lower(${users.email}) = lower(${email})`;
  const [taken] = await store.q
    .select({ id: users.id })
    .from(users)
    .where(exceptUserId == null ? same : and(same, ne(users.id, exceptUserId)))
    .limit(1);
  if (taken) throw conflict('email_taken', 'Another account has that e-mail address');
}

/** User administration (admin), and the directory secretaries pick participants from. */
export function userRoutes({ api, store, bus }: AppContext): void {
  const tags = ['users'];
  api.route(
    { method: 'get', path: '/api/users', summary: 'All users (admins and committee secretaries)', tags, access: 'user', response: UserList },
    async ({ user }) => {
      if (user.systemRole !== 'admin' && (await secretaryOf(store, user.id)).length === 0) throw forbidden();
      const all = (await store.q.select().from(users).orderBy(asc(users.fullName))).map(publicUser);
      return { users: user.systemRole === 'admin' ? all : all.map(directoryUser) };
    },
  );
  api.route(
    { method: 'post', path: '/api/users', summary: 'Create a user', tags, access: 'admin', body: CreateUserBody, response: User, status: 201 },
    async ({ user, body }) => {
      assertStrongPassword(body.password, { username: body.username, fullName: body.fullName });
      const passwordHash = await hashPassword(body.password);
      const { password: _p, ...fields } = body;
      return store.tx(async (q) => {
        if ((await q.select({ id: users.id }).from(users).where(eq(users.username, body.username)).limit(1)).length) {
          throw conflict('conflict', 'That username is taken');
        }
        await assertEmailFree(store, body.email);
        const row = await insertUser(q, { ...fields, passwordHash });
        await audit(q, { actorId: user.id, action: 'user.create', targetType: 'user', targetId: row.id, details: { username: row.username } });
        return publicUser(row);
      });
    },
  );
  api.route(
    { method: 'patch', path: '/api/users/:id', summary: 'Edit, deactivate or reset the password of a user', tags, access: 'admin', params: IdParams, body: UpdateUserBody, response: User },
    async ({ user, params, body }) => {
      if (params.id === user.id && (body.active === false || body.systemRole === 'user')) {
        throw badRequest('You cannot deactivate or demote yourself');
      }
      if (body.password) {
        const [target] = await store.q.select({ username: users.username, fullName: users.fullName }).from(users).where(eq(users.id, params.id)).limit(1);
        assertStrongPassword(body.password, { username: target?.username, fullName: body.fullName ?? target?.fullName });
      }
      const passwordHash = body.password ? await hashPassword(body.password) : undefined;
      const { password: _p, ...fields } = body;
      const updated = await store.tx(async (q) => {
        await assertEmailFree(store, body.email, params.id);
        // A password set by an administrator is a temporary one: the person must choose their own at
        // their next sign-in (their sessions end now), so the administrator never keeps a working password.
        const reset = passwordHash ? { passwordHash, mustChangePassword: params.id !== user.id } : {};
        const row = await updateUser(q, params.id, { ...fields, ...reset });
        if (!row) throw notFound('User');
        if (body.active === false || passwordHash) {
          await endUserSessions(store, row.id);
          await bus.share(q, 'session:ended', { userId: row.id });
        }
        await audit(q, { actorId: user.id, action: 'user.update', targetType: 'user', targetId: row.id, details: { fields: Object.keys(body) } });
        return publicUser(row);
      });
      // Their open sockets and Yjs connections close now, not at their next command.
      if (body.active === false || passwordHash) bus.emit('session:ended', { userId: updated.id });
      return updated;
    },
  );
}
