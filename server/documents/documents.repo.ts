import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Store } from '../db/store.js';

/*
 * The consultation grant's SQL (`consultationGrant` in documents.access.ts): a consultation lists its
 * documents in a JSON array column, read with json_each on SQLite and as jsonb on PostgreSQL (issue #17).
 * `r` recipients, `c` consultations, `d` documents.
 */

const rule = (published: string) => `EXISTS (SELECT 1 FROM committee_members cm WHERE cm.committee_id = c.committee_id AND cm.user_id = r.user_id)
  AND ${published} AND d.removed_at IS NULL
  AND (d.access = 'all' OR (d.access = 'named' AND EXISTS (SELECT 1 FROM document_viewers v WHERE v.document_id = d.id AND v.user_id = r.user_id)))
  AND EXISTS (SELECT 1 FROM meetings m WHERE m.id = d.meeting_id AND m.status <> 'draft')`;

interface GrantStatements {
  grant: Database.Statement<[documentId: number, userId: number]>;
  all: Database.Statement<[number], number>;
}

/** Prepared once per connection: the grant is asked on every read of a document outside the meeting's rule. */
const prepared = new WeakMap<Database.Database, GrantStatements>();

function statements(c: Database.Database): GrantStatements {
  let s = prepared.get(c);
  if (!s) {
    s = {
      grant: c.prepare<[documentId: number, userId: number]>(
        `SELECT 1 FROM consultation_recipients r
           JOIN consultations c ON c.id = r.consultation_id
           JOIN documents d ON d.id = ?
          WHERE r.user_id = ? AND EXISTS (SELECT 1 FROM json_each(c.document_ids) j WHERE j.value = d.id)
            AND ${rule('d.published = 1')}
          LIMIT 1`,
      ),
      all: c
        .prepare<[number], number>(
          `SELECT DISTINCT d.id FROM consultation_recipients r
             JOIN consultations c ON c.id = r.consultation_id
             JOIN json_each(c.document_ids) j
             JOIN documents d ON d.id = j.value
            WHERE r.user_id = ? AND ${rule('d.published = 1')}
            ORDER BY d.id`,
        )
        .pluck(),
    };
    prepared.set(c, s);
  }
  return s;
}

/** SQLite (run through `store.sqlite`): does a consultation of the user list the document under the rule? */
function sqliteGrant(c: Database.Database, documentId: number, userId: number): boolean {
  return statements(c).grant.get(documentId, userId) !== undefined;
}

/** SQLite (run through `store.sqlite`): every document granted to the user through consultations, by id. */
function sqliteGrantedIds(c: Database.Database, userId: number): number[] {
  return statements(c).all.all(userId);
}

const pgq = (store: Store) => store.q as unknown as NodePgDatabase;

/** Does a consultation of the user list the document under the rule? On either dialect. */
export async function grantedTo(store: Store, documentId: number, userId: number): Promise<boolean> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => sqliteGrant(c, documentId, userId));
  const { rows } = await pgq(store).execute(sql`SELECT 1 FROM consultation_recipients r
      JOIN consultations c ON c.id = r.consultation_id
      JOIN documents d ON d.id = ${documentId}
     WHERE r.user_id = ${userId} AND c.document_ids @> jsonb_build_array(d.id)
       AND ${sql.raw(rule('d.published'))}
     LIMIT 1`);
  return rows.length > 0;
}

/** Every document granted to the user through consultations, by id, on either dialect. */
export async function allGrantedTo(store: Store, userId: number): Promise<number[]> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => sqliteGrantedIds(c, userId));
  const { rows } = await pgq(store).execute<{ id: number }>(sql`SELECT DISTINCT d.id FROM consultation_recipients r
      JOIN consultations c ON c.id = r.consultation_id
      CROSS JOIN LATERAL jsonb_array_elements_text(c.document_ids) AS j(v)
      JOIN documents d ON d.id = j.v::int
     WHERE r.user_id = ${userId} AND ${sql.raw(rule('d.published'))}
     ORDER BY d.id`);
  return rows.map((r) => r.id);
}
