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
  }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Creates a session and returns the raw token for the cookie; only its hash is stored. */
export function createSession(db: Db, userId: number, hours: number): { token: string; expiresAt: Date } {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + hours * 3600_000);
  db.insert(sessions).values({ tokenHash: sha256(token), userId, expiresAt: expiresAt.toISOString() }).run();
  db.delete(sessions).where(lt(sessions.expiresAt, new Date().toISOString())).run();
  return { token, expiresAt };
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
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), gt(sessions.expiresAt, sql.placeholder('now')), eq(users.active, true)))
    .prepare(),
);

/**
 * Resolves a `Cookie` header to the signed-in, active user, or null. Used by REST, Socket.IO
 * and the Yjs upgrade alike so there is exactly one notion of "who is this".
 */
export function authenticateCookie(db: Db, cookieHeader: string | undefined): { user: AuthUser; tokenHash: string } | null {
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
  return row ? { user: row, tokenHash } : null;
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
