import crypto from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import { parse as parseCookie } from 'cookie';
import type { Store } from '../db/store.js';
import { committeeMembers, sessions } from '../db/tables.js';
import { findLiveSession, heldRoles } from './sessions.repo.js';

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

/** Creates a session and returns the raw token for the cookie; only its hash is stored. Expired sessions are swept. */
export async function createSession(store: Store, userId: number, hours: number, origin: SessionOrigin = {}): Promise<{ token: string; expiresAt: Date; tokenHash: string }> {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + hours * 3600_000);
  const tokenHash = sha256(token);
  await store.q
    .insert(sessions)
    .values({ tokenHash, userId, expiresAt: expiresAt.toISOString(), stage: origin.stage ?? 'active', userAgent: origin.userAgent?.slice(0, 300) ?? null, ip: origin.ip?.slice(0, 64) ?? null });
  await store.q.delete(sessions).where(lt(sessions.expiresAt, new Date().toISOString()));
  return { token, expiresAt, tokenHash };
}

/** Ends one session (sign-out, a revoked device). */
export async function endSession(store: Store, tokenHash: string): Promise<void> {
  await store.q.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

/** Ends every session of a user (deactivation, password change); inside the caller's transaction when there is one. */
export async function endUserSessions(store: Store, userId: number): Promise<void> {
  await store.q.delete(sessions).where(eq(sessions.userId, userId));
}

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

/**
 * True when the policy requires this user to have a second factor: an administrator, or a secretary
 * or chair of any committee or meeting, when that role is in the policy.
 */
export async function mfaRequiredFor(store: Store, user: { id: number; systemRole: string }, roles: readonly MfaRole[]): Promise<boolean> {
  if (!roles.length) return false;
  if (user.systemRole === 'admin' && roles.includes('admin')) return true;
  return policyHolds(roles, await heldRoles(store, user.id));
}

/** True when one of the roles the user holds (secretary, chair) is in the policy. */
const policyHolds = (roles: readonly MfaRole[], held: string[]) => {
  const set = new Set(held as MfaRole[]);
  return roles.some((r) => set.has(r));
};

/** True when the stored TOTP secret is confirmed (enrolment finished). */
export const totpEnrolled = (secret: string | null) => !!secret && !secret.startsWith('pending:');

/** The hash of the session token in a `Cookie` header, or null when there is none (or a malformed one). */
function tokenHashOf(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  let token: string | undefined;
  try {
    token = parseCookie(cookieHeader)[SESSION_COOKIE];
  } catch {
    return null;
  }
  if (!token || token.length > 100) return null;
  return sha256(token);
}

/** A session's restriction from its row, before the role policy; `policy` when only the policy can tell. */
function stageRestriction(row: { stage: 'active' | 'mfa'; mustChangePassword: boolean; totpSecret: string | null }): SessionRestriction | 'policy' | null {
  if (row.stage === 'mfa') return 'mfa_required';
  if (row.mustChangePassword) return 'password_change_required';
  return totpEnrolled(row.totpSecret) ? null : 'policy';
}

/** A session's full restriction: its row's, else the role policy's. */
async function restrictionOf(store: Store, row: { id: number; systemRole: string; stage: 'active' | 'mfa'; mustChangePassword: boolean; totpSecret: string | null }, mfaRoles: readonly MfaRole[]): Promise<SessionRestriction | null> {
  const early = stageRestriction(row);
  return early !== 'policy' ? early : (await mfaRequiredFor(store, row, mfaRoles)) ? 'mfa_enrolment_required' : null;
}

/**
 * Resolves a `Cookie` header to the signed-in, active user and what the session may not do yet, or
 * null. Only the REST middleware uses it (account routes accept restricted sessions).
 */
export async function authenticateSession(store: Store, cookieHeader: string | undefined, mfaRoles: readonly MfaRole[]): Promise<{ user: AuthUser; tokenHash: string; restriction: SessionRestriction | null } | null> {
  const tokenHash = tokenHashOf(cookieHeader);
  if (!tokenHash) return null;
  const row = await findLiveSession(store, tokenHash);
  if (!row) return null;
  const { stage: _s, mustChangePassword: _m, totpSecret: _t, ...user } = row;
  return { user, tokenHash, restriction: await restrictionOf(store, row, mfaRoles) };
}

/** What a live session (by its token hash) may not do yet, as `authenticateSession` tells it; null also when it is gone. */
export async function sessionRestriction(store: Store, tokenHash: string, mfaRoles: readonly MfaRole[]): Promise<SessionRestriction | null> {
  const row = await findLiveSession(store, tokenHash);
  return row ? restrictionOf(store, row, mfaRoles) : null;
}

/**
 * Resolves a `Cookie` header to the signed-in, active user with a full (unrestricted) session, or
 * null. Used by REST, Socket.IO and the Yjs upgrade alike so there is exactly one notion of "who is this";
 * a session that still owes a password change or a second factor is not signed in for them.
 */
export async function authenticateCookie(store: Store, cookieHeader: string | undefined, mfaRoles: readonly MfaRole[]): Promise<{ user: AuthUser; tokenHash: string } | null> {
  const a = await authenticateSession(store, cookieHeader, mfaRoles);
  return a && !a.restriction ? { user: a.user, tokenHash: a.tokenHash } : null;
}

/** A user's sessions as they see them (newest first); `id` is the first 16 hex characters of the token hash. */
export async function listSessions(store: Store, userId: number, currentTokenHash: string | undefined) {
  const rows = await store.q
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, new Date().toISOString())));
  return rows
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
export async function sessionHashById(store: Store, userId: number, id: string): Promise<string | null> {
  const rows = await store.q.select({ h: sessions.tokenHash }).from(sessions).where(eq(sessions.userId, userId));
  return rows.find((r) => r.h.slice(0, 16) === id)?.h ?? null;
}

/** Marks a session's second factor as given. */
export async function activateSession(store: Store, tokenHash: string): Promise<void> {
  await store.q.update(sessions).set({ stage: 'active' }).where(eq(sessions.tokenHash, tokenHash));
}

const secretaryWhere = (userId: number) => and(eq(committeeMembers.userId, userId), eq(committeeMembers.defaultRole, 'secretary'));

/** Committees in which the user has the default role of secretary (the user directory, "who am I"). */
export async function secretaryOf(store: Store, userId: number): Promise<number[]> {
  const rows = await store.q.select({ id: committeeMembers.committeeId }).from(committeeMembers).where(secretaryWhere(userId));
  return rows.map((r) => r.id);
}
