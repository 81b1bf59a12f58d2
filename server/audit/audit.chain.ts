import crypto from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The audit log's hash chain. Every entry stores `prev_hash` (the previous entry's `hash`, null for
 * the first) and `hash` = SHA-256 over the canonical encoding of the entry chained to `prev_hash`.
 * The canonical encoding is the JSON array of the stored column values in a fixed order —
 * `[prevHash ?? "", actorId, action, targetType, targetId, details, at]` with `details` exactly as
 * stored (its JSON text) — so a verifier recomputes it from the row alone, on any store.
 *
 * The row's `id` is deliberately not part of the encoding: an entry moved to another position keeps
 * a valid hash of its own but no longer links to its neighbours, which is how `verifyAuditChain`
 * tells a reordering from a change.
 *
 * The chain is computed by the `audit_log_chain` trigger (migration 0015) through the SQL function
 * `ec_audit_hash`, registered on every app connection by `registerAuditFunctions` before migrating.
 * The trigger runs inside the inserting transaction, whichever code inserts (the `audit()` helper or
 * a domain's prepared statement), so entries are chained in commit order even with concurrent writers:
 * SQLite serializes write transactions and the previous hash is read inside the same one.
 */
export function auditHash(
  prevHash: string | null,
  actorId: number | bigint | null,
  action: string,
  targetType: string,
  targetId: string | null,
  details: string | null,
  at: string,
): string {
  const canonical = JSON.stringify([prevHash ?? '', actorId == null ? null : Number(actorId), action, targetType, targetId, details, at]);
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

/** Registers `ec_audit_hash(prev, actor, action, targetType, targetId, details, at)` on a connection. */
export function registerAuditFunctions(sqlite: Database.Database): void {
  sqlite.function('ec_audit_hash', { deterministic: true, varargs: false }, (prev, actor, action, targetType, targetId, details, at) =>
    auditHash(prev as string | null, actor as number | null, action as string, targetType as string, targetId as string | null, details as string | null, at as string),
  );
}

/** One audit entry as the chain encodes it: the stored columns, `details` as its JSON text, `at` as ISO-8601 UTC with milliseconds. */
export interface ChainRow {
  id: number;
  actor_id: number | null;
  action: string;
  target_type: string;
  target_id: string | null;
  details: string | null;
  at: string;
  prev_hash: string | null;
  hash: string | null;
}

/**
 * Chains entries written before the chain existed (hash still null), in id order, once after
 * migrating. Entries written since are chained by the trigger.
 */
export function sealUnchainedEntries(sqlite: Database.Database): number {
  const open = sqlite.prepare<[], ChainRow>('SELECT * FROM audit_log WHERE hash IS NULL ORDER BY id').all();
  if (!open.length) return 0;
  const prevOf = sqlite.prepare<[number], { hash: string | null }>('SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1');
  const set = sqlite.prepare<[string | null, string, number]>('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?');
  sqlite.transaction(() => {
    for (const r of open) {
      const prev = prevOf.get(r.id)?.hash ?? null;
      set.run(prev, auditHash(prev, r.actor_id, r.action, r.target_type, r.target_id, r.details, r.at), r.id);
    }
  })();
  return open.length;
}

/** One problem found by `verifyAuditChain`, naming the entry. */
export interface ChainProblem {
  id: number;
  kind: 'changed' | 'removed' | 'reordered' | 'unchained';
  message: string;
}

/** The outcome of a verification: every problem, the number of entries, and the head (last id and hash). */
export interface ChainReport {
  ok: boolean;
  entries: number;
  head: { id: number; hash: string | null } | null;
  problems: ChainProblem[];
}

/**
 * Walks the whole log in id order and reports every entry whose content no longer matches its hash
 * (changed), whose link points at no entry (an entry before it was removed, or its predecessor was
 * rewritten), or at an entry elsewhere in the log (reordered). An entry removed from the end leaves
 * no trace inside the log: compare the printed head with one recorded earlier (`--expect-head`).
 */
export function verifyAuditChain(sqlite: Database.Database): ChainReport {
  return checkAuditChain(sqlite.prepare<[], ChainRow>('SELECT id, actor_id, action, target_type, target_id, details, at, prev_hash, hash FROM audit_log ORDER BY id').all());
}

/** `verifyAuditChain` over rows read from any store, in id order (PostgreSQL: server/audit/audit.repo.ts). */
export function checkAuditChain(rows: ChainRow[]): ChainReport {
  const problems: ChainProblem[] = [];
  const byHash = new Map<string, number>();
  for (const r of rows) if (r.hash) byHash.set(r.hash, r.id);
  let prev: ChainRow | null = null;
  for (const r of rows) {
    if (!r.hash) {
      problems.push({ id: r.id, kind: 'unchained', message: `entry ${r.id} has no hash (written outside the chain)` });
    } else if (auditHash(r.prev_hash, r.actor_id, r.action, r.target_type, r.target_id, r.details, r.at) !== r.hash) {
      problems.push({ id: r.id, kind: 'changed', message: `entry ${r.id} was changed: its content does not match its hash` });
    }
    const expected = prev?.hash ?? null;
    if (r.prev_hash !== expected) {
      const at = r.prev_hash == null ? undefined : byHash.get(r.prev_hash);
      if (at !== undefined && at !== prev?.id) {
        problems.push({ id: r.id, kind: 'reordered', message: `entry ${r.id} is out of order: it follows entry ${at} in the chain, not entry ${prev?.id ?? '(none)'}` });
      } else {
        const gap = prev && r.id > prev.id + 1 ? ` (ids ${prev.id + 1}–${r.id - 1} are missing)` : '';
        problems.push({
          id: r.id,
          kind: 'removed',
          message: `the chain is broken before entry ${r.id}: an entry between ${prev ? `entry ${prev.id}` : 'the start'} and entry ${r.id} was removed, or entry ${prev?.id ?? r.id} was rewritten${gap}`,
        });
      }
    }
    prev = r;
  }
  const last = rows.at(-1);
  return { ok: problems.length === 0, entries: rows.length, head: last ? { id: last.id, hash: last.hash } : null, problems };
}
