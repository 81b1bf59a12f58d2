import crypto from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { parse as parseCookie } from 'cookie';
import { type Db, perDb } from '../db/client.js';
import { committeeMembers, sessions, users } from '../db/schema/index.js';

export const SESSION_COOKIE = 'ec_sid';

/** The authenticated caller, as every route, socket and Yjs connection sees it. */
export interface AuthUser {
  id: number;
  username: string;
  fullName: string;
  title: string | null;
  unit: string | null;
  systemRole: 'admin' | 'user';
  locale: 'vi' | 'en';
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: AuthUser;
    sessionTokenHash?: string;
    /** Set when the session may only use the account routes (server/app.ts). */
    sessionRestriction?: SessionRestriction;
  }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Where a session was opened from, shown to its owner in their list of sessions. */
export interface SessionOrigin {
  userAgent?: string | null;
  ip?: string | null;
  /** `mfa`: the password was right but the TOTP code is still owed (see `SessionRestriction`). */
  stage?: 'active' | 'mfa';
}

/** Creates a session and returns the raw token for the cookie; only its hash is stored. */
export function createSession(db: Db, userId: number, hours: number, origin: SessionOrigin = {}): { token: string; expiresAt: Date; tokenHash: string } {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + hours * 3600_000);
  const tokenHash = sha256(token);
  db.insert(sessions)
    .values({ tokenHash, userId, expiresAt: expiresAt.toISOString(), stage: origin.stage ?? 'active', userAgent: origin.userAgent?.slice(0, 300) ?? null, ip: origin.ip?.slice(0, 64) ?? null })
    .run();
  db.delete(sessions).where(lt(sessions.expiresAt, new Date().toISOString())).run();
  return { token, expiresAt, tokenHash };
}

export function destroySession(db: Db, tokenHash: string): void {
  db.delete(sessions).where(eq(sessions.tokenHash, tokenHash)).run();
}

/** Ends every session of a user (deactivation, password change). */
export function destroyUserSessions(db: Db, userId: number): void {
  db.delete(sessions).where(eq(sessions.userId, userId)).run();
}


/**
 * The session → user lookup, prepared once per database: it runs on every request, every socket
 * handshake and every socket's periodic re-check (the query builder re-renders its SQL each call).
 */
const sessionLookup = perDb((db) =>
  db
    .select({
      id: users.id,
      username: users.username,
      fullName: users.fullName,
      title: users.title,
      unit: users.unit,
      systemRole: users.systemRole,
      locale: users.locale,
      stage: sessions.stage,
      mustChangePassword: users.mustChangePassword,
      totpSecret: users.totpSecret,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), gt(sessions.expiresAt, sql.placeholder('now')), eq(users.active, true)))
    .prepare(),
);

/**
 * What a session may not do yet. `password_change_required`: an administrator reset the password;
 * `mfa_required`: the TOTP code of this sign-in is still owed; `mfa_enrolment_required`: the policy
 * (`ECABINET_MFA_REQUIRED_ROLES`) requires a second factor for this user's role and none is enrolled.
 * A restricted session reaches only the account routes (server/app.ts `ACCOUNT_ROUTES`), never a
 * socket or a Yjs document.
 */
export type SessionRestriction = 'password_change_required' | 'mfa_required' | 'mfa_enrolment_required';

/** Roles for which a second factor is required: `config.mfaRequiredRoles` (ECABINET_MFA_REQUIRED_ROLES), passed by each caller. */
export type MfaRole = 'admin' | 'secretary' | 'chair';
const roleStatements = perDb(({ $client: c }) => ({
  committeeRole: c.prepare<[number], { r: string }>("SELECT default_role AS r FROM committee_members WHERE user_id = ? AND default_role IN ('secretary', 'chair')"),
  meetingRole: c.prepare<[number], { r: string }>("SELECT DISTINCT role AS r FROM meeting_participants WHERE user_id = ? AND role IN ('secretary', 'chair')"),
}));

/**
 * True when the policy requires this user to have a second factor: an administrator, or a secretary
 * or chair of any committee or meeting, when that role is in the policy.
 */
export function mfaRequiredFor(db: Db, user: { id: number; systemRole: string }, roles: readonly MfaRole[]): boolean {
  if (!roles.length) return false;
  if (user.systemRole === 'admin' && roles.includes('admin')) return true;
  const s = roleStatements(db);
  const held = new Set([...s.committeeRole.all(user.id), ...s.meetingRole.all(user.id)].map((r) => r.r as MfaRole));
  return roles.some((r) => held.has(r));
}

/** True when the stored TOTP secret is confirmed (enrolment finished). */
export const totpEnrolled = (secret: string | null) => !!secret && !secret.startsWith('pending:');

/**
 * Resolves a `Cookie` header to the signed-in, active user and what the session may not do yet, or
 * null. Only the REST middleware uses it (account routes accept restricted sessions).
 */
export function authenticateSession(db: Db, cookieHeader: string | undefined, mfaRoles: readonly MfaRole[]): { user: AuthUser; tokenHash: string; restriction: SessionRestriction | null } | null {
  if (!cookieHeader) return null;
  let token: string | undefined;
  try {
    token = parseCookie(cookieHeader)[SESSION_COOKIE];
  } catch {
    return null;
  }
  if (!token || token.length > 100) return null;
  const tokenHash = sha256(token);
  const row = sessionLookup(db).get({ tokenHash, now: new Date().toISOString() });
  if (!row) return null;
  const { stage, mustChangePassword, totpSecret, ...user } = row;
  let restriction: SessionRestriction | null = null;
  if (stage === 'mfa') restriction = 'mfa_required';
  else if (mustChangePassword) restriction = 'password_change_required';
  else if (!totpEnrolled(totpSecret) && mfaRequiredFor(db, user, mfaRoles)) restriction = 'mfa_enrolment_required';
  return { user, tokenHash, restriction };
}

/**
 * Resolves a `Cookie` header to the signed-in, active user with a full (unrestricted) session, or
 * null. Used by REST, Socket.IO and the Yjs upgrade alike so there is exactly one notion of "who is this";
 * a session that still owes a password change or a second factor is not signed in for them.
 */
export function authenticateCookie(db: Db, cookieHeader: string | undefined, mfaRoles: readonly MfaRole[]): { user: AuthUser; tokenHash: string } | null {
  const a = authenticateSession(db, cookieHeader, mfaRoles);
  return a && !a.restriction ? { user: a.user, tokenHash: a.tokenHash } : null;
}

/** A user's sessions as they see them (newest first); `id` is the first 16 hex characters of the token hash. */
export function listSessions(db: Db, userId: number, currentTokenHash: string | undefined) {
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, new Date().toISOString())))
    .all()
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((r) => ({
      id: r.tokenHash.slice(0, 16),
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      userAgent: r.userAgent,
      ip: r.ip,
      current: r.tokenHash === currentTokenHash,
      pendingSecondFactor: r.stage === 'mfa',
    }));
}

/** The full token hash of one of a user's sessions, from its listed id; null when not theirs. */
export function sessionHashById(db: Db, userId: number, id: string): string | null {
  const rows = db.select({ h: sessions.tokenHash }).from(sessions).where(eq(sessions.userId, userId)).all();
  return rows.find((r) => r.h.slice(0, 16) === id)?.h ?? null;
}

/** Marks a session's second factor as given. */
export function activateSession(db: Db, tokenHash: string): void {
  db.update(sessions).set({ stage: 'active' }).where(eq(sessions.tokenHash, tokenHash)).run();
}

/** Committees in which the user has the default role of secretary. */
export function secretaryOf(db: Db, userId: number): number[] {
  return db
    .select({ id: committeeMembers.committeeId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.userId, userId), eq(committeeMembers.defaultRole, 'secretary')))
    .all()
    .map((r) => r.id);
}
