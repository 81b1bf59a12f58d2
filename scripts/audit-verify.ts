/**
 * npm run audit:verify [-- <dataDir | file.sqlite>] [--expect-head <id>:<hash>] [--json]
 * Verifies the audit log's hash chain (server/audit/audit.chain.ts) of the database in
 * ECABINET_DATA_DIR (default ./data) or the given directory or file, read-only. Prints every entry
 * that was changed, removed before or reordered, and the head (last id and hash): record the head
 * somewhere else (a ticket, a printed report) and pass it later as --expect-head to detect entries
 * removed from the end. Exit code 0 = intact, 1 = tampered, 2 = usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { verifyAuditChain } from '../server/audit/audit.chain.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const headArg = args.indexOf('--expect-head');
const expectHead = headArg >= 0 ? args[headArg + 1] : undefined;
const positional = args.filter((a, i) => !a.startsWith('--') && (headArg < 0 || i !== headArg + 1));
const target = positional[0] ?? process.env.ECABINET_DATA_DIR ?? './data';
const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'ecabinet.sqlite') : target;
if (!fs.existsSync(file)) {
  console.error(`audit:verify: no database at ${file}`);
  process.exit(2);
}
const sqlite = new Database(file, { readonly: true, fileMustExist: true });
const report = verifyAuditChain(sqlite);
sqlite.close();

if (expectHead) {
  // The recorded head must still be in the chain with the same hash (entries after it may have been added).
  const [id, hash] = expectHead.split(':');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const at = db.prepare<[number], { hash: string | null }>('SELECT hash FROM audit_log WHERE id = ?').get(Number(id));
  db.close();
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
process.exit(report.ok ? 0 : 1);
