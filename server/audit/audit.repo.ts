import type Database from 'better-sqlite3';
import type { Q } from '../db/store.js';
import { auditLog } from '../db/tables.js';

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
 * The prepared insert of `audit()`'s row for hot paths that write through better-sqlite3 statements
 * (a ballot cast: one entry per ballot), about targets of one type (a code constant):
 * `run(actorId, action, targetId, detailsJson)`.
 */
export function prepareAudit(sqlite: Database.Database, targetType: 'vote'): Database.Statement<[number, string, string, string]> {
  return sqlite.prepare(`INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES (?, ?, '${targetType}', ?, ?)`);
}
