import { eq } from 'drizzle-orm';
import { LoginBody, Me, UpdateMeBody } from '../../shared/protocol/auth.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { tx } from '../db/client.js';
import { users } from '../db/schema/index.js';
import { AppError } from '../http/errors.js';
import { LoginThrottle } from './login-throttle.js';
import { DUMMY_HASH, verifyPassword } from './password.js';
import { type AuthUser, SESSION_COOKIE, createSession, destroySession, secretaryOf } from './sessions.js';

/** The signed-in user, with their own e-mail address (only ever shown to them and to administrators). */
const toMe = (ctx: AppContext, u: AuthUser) => ({
  ...u,
  email: ctx.db.select({ email: users.email }).from(users).where(eq(users.id, u.id)).get()?.email ?? null,
  secretaryOf: secretaryOf(ctx.db, u.id),
});

/** Login, logout and "who am I". */
export function authRoutes(ctx: AppContext): void {
  const { api, db, config } = ctx;
  // Counted before the password is checked, keyed by account AND source (see login-throttle.ts).
  const throttle = new LoginThrottle(config.loginLimits);

  api.route(
    { method: 'post', path: '/api/auth/login', summary: 'Sign in; sets the session cookie', tags: ['auth'], access: 'public', body: LoginBody, response: Me },
    async ({ req, res, body }) => {
      const ip = req.ip ?? 'unknown';
      const account = body.username.toLowerCase();
      const attempt = await throttle.begin(account, ip);

      const row = db.select().from(users).where(eq(users.username, account)).get();
      const ok = await verifyPassword(row?.passwordHash ?? DUMMY_HASH, body.password);
      if (!row || !ok || !row.active) {
        attempt.failed();
        ctx.log.info({ username: account, ip }, 'login failed');
        // Same answer for unknown user, wrong password and disabled account: no account probing.
        throw new AppError('invalid_credentials', 'Wrong username or password', 401);
      }
      attempt.succeeded();
      const { token, expiresAt } = tx(db, (d) => {
        const s = createSession(d, row.id, config.sessionHours);
        audit(d, { actorId: row.id, action: 'auth.login', targetType: 'user', targetId: row.id });
        return s;
      });
      res.cookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: config.env === 'production' && req.secure,
        expires: expiresAt,
        path: '/',
      });
      const { passwordHash: _h, active: _a, createdAt: _c, ...u } = row;
      return toMe(ctx, u);
    },
  );

  api.route({ method: 'post', path: '/api/auth/logout', summary: 'Sign out', tags: ['auth'], access: 'public' }, ({ req, res }) => {
    if (req.sessionTokenHash) {
      destroySession(db, req.sessionTokenHash);
      ctx.bus.emit('session:ended', { tokenHash: req.sessionTokenHash });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    return undefined;
  });

  api.route({ method: 'get', path: '/api/auth/me', summary: 'The signed-in user', tags: ['auth'], access: 'user', response: Me }, ({ user }) =>
    toMe(ctx, user),
  );

  api.route(
    { method: 'patch', path: '/api/auth/me', summary: 'Change my interface language', tags: ['auth'], access: 'user', body: UpdateMeBody, response: Me },
    ({ user, body }) => {
      tx(db, (d) => {
        d.update(users).set({ locale: body.locale }).where(eq(users.id, user.id)).run();
        audit(d, { actorId: user.id, action: 'user.locale', targetType: 'user', targetId: user.id, details: { locale: body.locale } });
      });
      return toMe(ctx, { ...user, locale: body.locale });
    },
  );
}
