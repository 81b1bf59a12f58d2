import type Database from 'better-sqlite3';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema/index.js';

export interface AuditEntry {
  actorId: number | null;
  action: string;
  targetType: string;
  targetId?: string | number | null;
  details?: Record<string, unknown>;
}

/**
 * Appends one audit entry. Call it inside the same `tx()` as the change it records, so the log
 * and the data can never disagree. Never put secrets or secret-ballot choices in `details`.
 */
export function audit(db: Db, e: AuditEntry): void {
  db.insert(auditLog)
    .values({
      actorId: e.actorId,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId == null ? null : String(e.targetId),
      details: e.details ?? null,
    })
    .run();
}

/**
 * The prepared insert of `audit()`'s row for hot paths that write through better-sqlite3 statements
 * (a ballot cast: one entry per ballot), about targets of one type (a code constant):
 * `run(actorId, action, targetId, detailsJson)`.
 */
export function prepareAudit(sqlite: Database.Database, targetType: 'vote'): Database.Statement<[number, string, string, string]> {
  return sqlite.prepare(`INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES (?, ?, '${targetType}', ?, ?)`);
}
