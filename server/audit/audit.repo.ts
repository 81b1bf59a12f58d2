import type Database from 'better-sqlite3';
import { type SQL, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Q, Store } from '../db/store.js';
import { auditLog } from '../db/tables.js';
import { type ChainReport, type ChainRow, checkAuditChain, verifyAuditChain } from './audit.chain.js';

export interface AuditEntry {
  actorId: number | null;
  action: string;
  targetType: string;
  targetId?: string | number | null;
  details?: Record<string, unknown>;
}

/**
 * Appends one audit entry. Call it with the `q` of the same `store.tx` as the change it records (or
 * `store.q` inside it), so the log and the data can never disagree. Never put secrets or secret-ballot
 * choices in `details`.
 */
export async function audit(q: Q, e: AuditEntry): Promise<void> {
  await q.insert(auditLog).values({
    actorId: e.actorId,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId == null ? null : String(e.targetId),
    details: e.details ?? null,
  });
}

/**
 * PostgreSQL: appends the audit entries `select` yields (columns in order: actor_id, action, target_type,
 * target_id, details as json) — one data-modifying part of a larger statement (the ballot batch writes its
 * ballots and their entries in one round trip, server/votes/votes.repo.ts). The chain trigger hashes them
 * as any other entry.
 */
export function auditInsertPg(select: SQL): SQL {
  return sql`INSERT INTO audit_log (actor_id, action, target_type, target_id, details) ${select}`;
}

/** Appends several audit entries in one statement (in their order), as `audit()` does one. */
export async function auditAll(q: Q, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await q.insert(auditLog).values(
    entries.map((e) => ({ actorId: e.actorId, action: e.action, targetType: e.targetType, targetId: e.targetId == null ? null : String(e.targetId), details: e.details ?? null })),
  );
}

/**
 * The prepared insert of `audit()`'s row for hot paths that write through better-sqlite3 statements
 * (a ballot cast: one entry per ballot), about targets of one type (a code constant):
 * `run(actorId, action, targetId, detailsJson)`.
 */
export function prepareAudit(sqlite: Database.Database, targetType: 'vote'): Database.Statement<[number, string, string, string]> {
  return sqlite.prepare(`INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES (?, ?, '${targetType}', ?, ?)`);
}

/**
 * Verifies the whole log's hash chain (server/audit/audit.chain.ts) on the store's dialect: on SQLite
 * through its own connection, on PostgreSQL with each row encoded as its trigger encodes it (`details`
 * as stored text, `at` as ISO-8601 UTC with milliseconds: migrations-pg/0001_audit_chain.sql).
 */
export async function verifyStoredAuditChain(store: Store): Promise<ChainReport> {
  if (store.dialect === 'sqlite') return store.sqlite((db) => verifyAuditChain(db));
  const { rows } = await (store.q as unknown as NodePgDatabase).execute<ChainRow & Record<string, unknown>>(
    sql`SELECT id, actor_id, action, target_type, target_id, details::text AS details,
               to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, prev_hash, hash
          FROM audit_log ORDER BY id`,
  );
  return checkAuditChain(rows);
}
