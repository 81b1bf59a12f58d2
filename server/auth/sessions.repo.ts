import type Database from 'better-sqlite3';
import { and, eq, gt, inArray } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { committeeMembers, meetingParticipants, sessions, users } from '../db/tables.js';

/*
 * The session lookups every request, socket handshake, socket command re-check and Yjs upgrade runs
 * (server/auth/sessions.ts). On SQLite they are statements prepared once per connection and run through
 * `store.sqlite`: building the query with Drizzle costs about ten times the lookup itself (measured,
 * see the commit). On PostgreSQL, the builder.
 */

/** A live session joined with its active user: the user as `AuthUser` plus what decides the session's restriction. */
export interface SessionRow {
  id: number;
  username: string;
  fullName: string;
  title: string | null;
  unit: string | null;
  systemRole: 'admin' | 'user';
  locale: 'vi' | 'en';
  stage: 'active' | 'mfa';
  mustChangePassword: boolean;
  totpSecret: string | null;
}

type RawSessionRow = Omit<SessionRow, 'mustChangePassword'> & { mustChangePassword: 0 | 1 };
interface Statements {
  lookup: Database.Statement<[string, string], RawSessionRow>;
  roles: Database.Statement<[number, number], { r: string }>;
}
const prepared = new WeakMap<Database.Database, Statements>();
const statementsOf = (db: Database.Database): Statements => {
  let s = prepared.get(db);
  if (!s) {
    s = {
      lookup: db.prepare(
        `SELECT u.id, u.username, u.full_name AS fullName, u.title, u.unit, u.system_role AS systemRole, u.locale, s.stage,
                u.must_change_password AS mustChangePassword, u.totp_secret AS totpSecret
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1`,
      ),
      roles: db.prepare(
        `SELECT default_role AS r FROM committee_members WHERE user_id = ? AND default_role IN ('secretary', 'chair')
         UNION SELECT role AS r FROM meeting_participants WHERE user_id = ? AND role IN ('secretary', 'chair')`,
      ),
    };
    prepared.set(db, s);
  }
  return s;
};

/** The live (unexpired) session with this token hash, of an active user; undefined when there is none. */
export async function findLiveSession(store: Store, tokenHash: string): Promise<SessionRow | undefined> {
  const now = new Date().toISOString();
  if (store.dialect === 'sqlite') {
    return store.sqlite((db) => {
      const row = statementsOf(db).lookup.get(tokenHash, now);
      return row && { ...row, mustChangePassword: row.mustChangePassword === 1 };
    });
  }
  const rows = await store.q
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
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), eq(users.active, true)))
    .limit(1);
  return rows[0];
}

/** The roles among secretary and chair the user holds in any committee (default role) or meeting. */
export async function heldRoles(store: Store, userId: number): Promise<string[]> {
  if (store.dialect === 'sqlite') return store.sqlite((db) => statementsOf(db).roles.all(userId, userId).map((x) => x.r));
  const committeeRoles = await store.q
    .select({ r: committeeMembers.defaultRole })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.userId, userId), inArray(committeeMembers.defaultRole, ['secretary', 'chair'])));
  const meetingRoles = await store.q
    .selectDistinct({ r: meetingParticipants.role })
    .from(meetingParticipants)
    .where(and(eq(meetingParticipants.userId, userId), inArray(meetingParticipants.role, ['secretary', 'chair'])));
  return [...committeeRoles, ...meetingRoles].map((x) => x.r);
}
