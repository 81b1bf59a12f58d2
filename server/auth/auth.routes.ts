import { eq } from 'drizzle-orm';
import type { Response } from 'express';
import { ChangePasswordBody, DisableMfaBody, LoginBody, Me, MfaEnrolment, SessionList, SessionParams, TotpCodeBody, UpdateMeBody } from '../../shared/protocol/auth.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { sessions, users } from '../db/tables.js';
import { AppError, notFound } from '../http/errors.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, DUMMY_HASH, verifyPassword } from './password.js';
import { assertStrongPassword } from './password-policy.js';
import {
  type AuthUser,
  SESSION_COOKIE,
  type SessionRestriction,
  activateSession,
  createSession,
  endSession,
  endUserSessions,
  listSessions,
  mfaRequiredFor,
  secretaryOf,
  sessionHashById,
  sessionRestriction,
  totpEnrolled,
} from './sessions.js';
import { newTotpSecret, openTotpSecret, sealTotpSecret, totpUri, verifyTotp } from './totp.js';

/** Login, logout, "who am I", my password, my sessions and my second factor. */
export function authRoutes(ctx: AppContext): void {
  const { api, store, config } = ctx;
  // Counted before the password is checked, keyed by account AND source (see login-throttle.ts).
  // In cluster mode with Redis the counts are shared by every node (the hub's Redis connection).
  const redis = () => ctx.realtime?.redis ?? null;
  const throttle = new LoginThrottle(config.loginLimits, { name: 'login', redis });
  // Wrong current passwords (password change, turning the second factor off) and wrong TOTP codes:
  // the same counting, keyed by the signed-in account and the source.
  const secondary = new LoginThrottle(config.loginLimits, { name: 'secondary', redis });
  const tags = ['auth'];

  /** The signed-in user as they see themselves, with what this session must do first. */
  const toMe = async (u: AuthUser, restriction: SessionRestriction | null) => {
    const [row] = await store.q.select({ email: users.email, totpSecret: users.totpSecret }).from(users).where(eq(users.id, u.id)).limit(1);
    return {
      id: u.id,
      username: u.username,
      fullName: u.fullName,
      title: u.title,
      unit: u.unit,
      systemRole: u.systemRole,
      locale: u.locale,
      email: row?.email ?? null,
      secretaryOf: await secretaryOf(store, u.id),
      restriction,
      mfaEnabled: totpEnrolled(row?.totpSecret ?? null),
      mfaRequired: await mfaRequiredFor(store, u, config.mfaRequiredRoles),
    };
  };
  const setCookie = (res: Response, secure: boolean, token: string, expiresAt: Date) =>
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: config.env === 'production' && secure, expires: expiresAt, path: '/' });
  /** What the session with this token hash must do first (as the REST middleware will tell it). */
  const restrictionOf = (tokenHash: string) => sessionRestriction(store, tokenHash, config.mfaRequiredRoles);

  api.route(
    { method: 'post', path: '/api/auth/login', summary: 'Sign in; sets the session cookie (a session that owes a TOTP code or a password change answers with `restriction`)', tags, access: 'public', body: LoginBody, response: Me },
    async ({ req, res, body }) => {
      const ip = req.ip ?? 'unknown';
      const account = body.username.toLowerCase();
      const attempt = await throttle.begin(account, ip);

      const [row] = await store.q.select().from(users).where(eq(users.username, account)).limit(1);
      const ok = await verifyPassword(row?.passwordHash ?? DUMMY_HASH, body.password);
      if (!row || !ok || !row.active) {
        attempt.failed();
        ctx.log.info({ username: account, ip }, 'login failed');
        // Same answer for unknown user, wrong password and disabled account: no account probing.
        throw new AppError('invalid_credentials', 'Wrong username or password', 401);
      }
      attempt.succeeded();
      // With a second factor enrolled the session starts in the `mfa` stage: it reaches nothing but
      // POST /api/auth/mfa (and logout) until the code is given.
      const stage = totpEnrolled(row.totpSecret) ? ('mfa' as const) : ('active' as const);
      const { token, expiresAt, tokenHash } = await store.tx(async () => {
        const s = await createSession(store, row.id, config.sessionHours, { stage, userAgent: req.get('user-agent') ?? null, ip });
        await audit(store.q, { actorId: row.id, action: 'auth.login', targetType: 'user', targetId: row.id, details: { secondFactorPending: stage === 'mfa' } });
        return s;
      });
      setCookie(res, req.secure, token, expiresAt);
      const u: AuthUser = { id: row.id, username: row.username, fullName: row.fullName, title: row.title, unit: row.unit, systemRole: row.systemRole, locale: row.locale };
      return toMe(u, await restrictionOf(tokenHash));
    },
  );

  api.route({ method: 'post', path: '/api/auth/logout', summary: 'Sign out', tags, access: 'public', noContent: true }, async ({ req, res }) => {
    if (req.sessionTokenHash) {
      const tokenHash = req.sessionTokenHash;
      await ctx.bus.shareWith(store, 'session:ended', { tokenHash }, () => endSession(store, tokenHash));
      ctx.bus.emit('session:ended', { tokenHash });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    return undefined;
  });

  api.route({ method: 'get', path: '/api/auth/me', summary: 'The signed-in user and what this session must do first', tags, access: 'user', response: Me }, ({ req, user }) =>
    toMe(user, req.sessionRestriction ?? null),
  );

  api.route(
    { method: 'patch', path: '/api/auth/me', summary: 'Change my interface language', tags, access: 'user', body: UpdateMeBody, response: Me },
    async ({ req, user, body }) => {
      await store.tx(async (q) => {
        await q.update(users).set({ locale: body.locale }).where(eq(users.id, user.id));
        await audit(q, { actorId: user.id, action: 'user.locale', targetType: 'user', targetId: user.id, details: { locale: body.locale } });
      });
      return toMe({ ...user, locale: body.locale }, req.sessionRestriction ?? null);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/auth/password',
      summary: 'Change my password (current one required; ≥ 12 characters, not guessable). Ends every session of mine and re-issues this one',
      tags,
      access: 'user',
      body: ChangePasswordBody,
      response: Me,
    },
    async ({ req, res, user, body }) => {
      const attempt = await secondary.begin(`password:${user.id}`, req.ip ?? 'unknown');
      const [row] = await store.q.select().from(users).where(eq(users.id, user.id)).limit(1);
      if (!(await verifyPassword(row!.passwordHash, body.currentPassword))) {
        attempt.failed();
        throw new AppError('invalid_credentials', 'The current password is wrong', 401);
      }
      attempt.succeeded();
      assertStrongPassword(body.newPassword, { username: row.username, fullName: row.fullName });
      if (await verifyPassword(row.passwordHash, body.newPassword)) throw new AppError('weak_password', 'Choose a password other than the current one', 422, { reasons: ['same as the current password'] });
      const passwordHash = await hashPassword(body.newPassword);
      // Every session of mine ends (other devices, and anyone who knew the old password); this one is
      // re-issued under a new token, in the same transaction.
      const { token, expiresAt, tokenHash } = await store.tx(async (q) => {
        await q.update(users).set({ passwordHash, mustChangePassword: false }).where(eq(users.id, user.id));
        await endUserSessions(store, user.id);
        const s = await createSession(store, user.id, config.sessionHours, { userAgent: req.get('user-agent') ?? null, ip: req.ip ?? null });
        await audit(q, { actorId: user.id, action: 'auth.password_changed', targetType: 'user', targetId: user.id });
        await ctx.bus.share(q, 'session:ended', { userId: user.id });
        return s;
      });
      ctx.bus.emit('session:ended', { userId: user.id });
      setCookie(res, req.secure, token, expiresAt);
      return toMe(user, await restrictionOf(tokenHash));
    },
  );

  api.route(
    { method: 'get', path: '/api/auth/sessions', summary: 'My sessions (devices signed in as me), newest first', tags, access: 'user', response: SessionList },
    async ({ req, user }) => ({ sessions: await listSessions(store, user.id, req.sessionTokenHash) }),
  );
  api.route(
    { method: 'delete', path: '/api/auth/sessions/:id', summary: 'End one of my sessions (its sockets and Yjs connections close at once)', tags, access: 'user', params: SessionParams, noContent: true },
    async ({ user, params }) => {
      const hash = await sessionHashById(store, user.id, params.id);
      if (!hash) throw notFound('Session');
      await store.tx(async (q) => {
        await q.delete(sessions).where(eq(sessions.tokenHash, hash));
        await audit(q, { actorId: user.id, action: 'auth.session_revoked', targetType: 'user', targetId: user.id, details: { session: params.id } });
        await ctx.bus.share(q, 'session:ended', { tokenHash: hash });
      });
      ctx.bus.emit('session:ended', { tokenHash: hash });
    },
  );

  // --- second factor (TOTP, RFC 6238) ---
  api.route(
    { method: 'post', path: '/api/auth/mfa', summary: 'Give the TOTP code of this sign-in (sessions that owe one)', tags, access: 'user', body: TotpCodeBody, response: Me },
    async ({ req, user, body }) => {
      if (req.sessionRestriction !== 'mfa_required') throw new AppError('invalid_state', 'This session does not owe a code', 409);
      const attempt = await secondary.begin(`mfa:${user.id}`, req.ip ?? 'unknown');
      const [row] = await store.q.select({ secret: users.totpSecret, last: users.totpLastStep }).from(users).where(eq(users.id, user.id)).limit(1);
      const totp = openTotpSecret(ctx.config.secret, user.id, row!.secret);
      const step = totp && !totp.pending ? await verifyTotp(totp.secret, body.code, row!.last) : null;
      if (step === null) {
        attempt.failed();
        throw new AppError('invalid_mfa_code', 'Wrong or already used code', 401);
      }
      attempt.succeeded();
      await store.tx(async (q) => {
        await q.update(users).set({ totpLastStep: step }).where(eq(users.id, user.id));
        await activateSession(store, req.sessionTokenHash!);
        await audit(q, { actorId: user.id, action: 'auth.mfa_verified', targetType: 'user', targetId: user.id });
      });
      return toMe(user, await restrictionOf(req.sessionTokenHash!));
    },
  );
  api.route(
    { method: 'post', path: '/api/auth/mfa/enrol', summary: 'Start enrolling a TOTP second factor: a new secret to add to an authenticator app', tags, access: 'user', response: MfaEnrolment },
    async ({ req, user }) => {
      if (req.sessionRestriction === 'mfa_required') throw new AppError('mfa_required', 'Give the code of this sign-in first', 403);
      const [row] = await store.q.select({ secret: users.totpSecret }).from(users).where(eq(users.id, user.id)).limit(1);
      if (totpEnrolled(row!.secret)) throw new AppError('invalid_state', 'A second factor is already enrolled', 409);
      const secret = newTotpSecret();
      // Stored sealed (server/auth/totp.ts): the database never holds a secret that generates codes.
      await store.q.update(users).set({ totpSecret: sealTotpSecret(ctx.config.secret, user.id, secret, true), totpLastStep: null }).where(eq(users.id, user.id));
      return { secret, otpauthUri: totpUri(user.username, secret) };
    },
  );
  api.route(
    { method: 'post', path: '/api/auth/mfa/confirm', summary: 'Finish enrolling: a code from the app proves it holds the secret', tags, access: 'user', body: TotpCodeBody, response: Me },
    async ({ req, user, body }) => {
      if (req.sessionRestriction === 'mfa_required') throw new AppError('mfa_required', 'Give the code of this sign-in first', 403);
      const attempt = await secondary.begin(`mfa:${user.id}`, req.ip ?? 'unknown');
      const [row] = await store.q.select({ secret: users.totpSecret }).from(users).where(eq(users.id, user.id)).limit(1);
      const pending = openTotpSecret(ctx.config.secret, user.id, row!.secret);
      if (!pending?.pending) throw new AppError('invalid_state', 'Start the enrolment first', 409);
      const step = await verifyTotp(pending.secret, body.code, null);
      if (step === null) {
        attempt.failed();
        throw new AppError('invalid_mfa_code', 'Wrong code: check the time on the device and try the next one', 401);
      }
      attempt.succeeded();
      await store.tx(async (q) => {
        await q.update(users).set({ totpSecret: sealTotpSecret(ctx.config.secret, user.id, pending.secret), totpLastStep: step }).where(eq(users.id, user.id));
        await audit(q, { actorId: user.id, action: 'auth.mfa_enrolled', targetType: 'user', targetId: user.id });
      });
      return toMe(user, await restrictionOf(req.sessionTokenHash!));
    },
  );
  api.route(
    { method: 'delete', path: '/api/auth/mfa', summary: 'Turn my second factor off (password and a current code; refused when the policy requires one)', tags, access: 'user', body: DisableMfaBody, response: Me },
    async ({ req, user, body }) => {
      if (await mfaRequiredFor(store, user, config.mfaRequiredRoles)) throw new AppError('forbidden', 'Your role requires a second factor', 403);
      const attempt = await secondary.begin(`mfa:${user.id}`, req.ip ?? 'unknown');
      const [row] = await store.q.select().from(users).where(eq(users.id, user.id)).limit(1);
      const totp = openTotpSecret(ctx.config.secret, user.id, row!.totpSecret);
      const step = totp && !totp.pending ? await verifyTotp(totp.secret, body.code, row!.totpLastStep) : null;
      if (step === null || !(await verifyPassword(row!.passwordHash, body.password))) {
        attempt.failed();
        throw new AppError('invalid_mfa_code', 'Wrong password or code', 401);
      }
      attempt.succeeded();
      await store.tx(async (q) => {
        await q.update(users).set({ totpSecret: null, totpLastStep: null }).where(eq(users.id, user.id));
        await audit(q, { actorId: user.id, action: 'auth.mfa_disabled', targetType: 'user', targetId: user.id });
      });
      return toMe(user, await restrictionOf(req.sessionTokenHash!));
    },
  );
}
