/**
 * npm run audit:verify [-- <dataDir | file.sqlite>] [--expect-head <id>:<hash>] [--json]
 * Verifies the audit log's hash chain (server/audit/audit.chain.ts) of the database in
 * ECABINET_DATA_DIR (default ./data) or the given directory or file, read-only; with DATABASE_URL set,
 * of that PostgreSQL database (opened as the server opens it: pending migrations apply). Prints every entry
 * that was changed, removed before or reordered, and the head (last id and hash): record the head
 * somewhere else (a ticket, a printed report) and pass it later as --expect-head to detect entries
 * removed from the end. Exit code 0 = intact, 1 = tampered, 2 = usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { type ChainReport, verifyAuditChain } from '../server/audit/audit.chain.js';
import { verifyStoredAuditChain } from '../server/audit/audit.repo.js';
import { openPgStore } from '../server/db/store.pg.js';
import { auditLog } from '../server/db/tables.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const headArg = args.indexOf('--expect-head');
const expectHead = headArg >= 0 ? args[headArg + 1] : undefined;
const positional = args.filter((a, i) => !a.startsWith('--') && (headArg < 0 || i !== headArg + 1));
const pgUrl = process.env.DATABASE_URL || null;
let report: ChainReport;
/** The stored hash of entry `id` (for --expect-head). */
let hashOf: (id: number) => Promise<{ hash: string | null } | undefined>;
let close = async () => {};
if (pgUrl) {
  const store = await openPgStore(pgUrl, { poolSize: 1 });
  report = await verifyStoredAuditChain(store);
  hashOf = async (id) => (await store.q.select({ hash: auditLog.hash }).from(auditLog).where(eq(auditLog.id, id)).limit(1))[0];
  close = () => store.close();
} else {
  const target = positional[0] ?? process.env.ECABINET_DATA_DIR ?? './data';
  const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'ecabinet.sqlite') : target;
  if (!fs.existsSync(file)) {
    console.error(`audit:verify: no database at ${file}`);
    process.exit(2);
  }
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  report = verifyAuditChain(sqlite);
  hashOf = async (id) => sqlite.prepare<[number], { hash: string | null }>('SELECT hash FROM audit_log WHERE id = ?').get(id);
  close = async () => void sqlite.close();
}

if (expectHead) {
  // The recorded head must still be in the chain with the same hash (entries after it may have been added).
  const [id, hash] = expectHead.split(':');
  const at = await hashOf(Number(id));
  if (!at || at.hash !== hash) {
    report.ok = false;
    report.problems.push({ id: Number(id), kind: 'removed', message: `the recorded head ${id}:${hash} is no longer in the log: entries at or after it were removed, or it was changed` });
  }
}

if (json) console.log(JSON.stringify(report));
else {
  for (const p of report.problems) console.log(`${p.kind.toUpperCase()}: ${p.message}`);
  console.log(
    report.ok
      ? `audit log intact: ${report.entries} entries, head ${report.head ? `${report.head.id}:${report.head.hash}` : '(empty)'}`
      : `audit log TAMPERED: ${report.problems.length} problem(s) in ${report.entries} entries`,
  );
}
await close();
process.exit(report.ok ? 0 : 1);
