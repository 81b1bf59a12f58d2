import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** `bash scripts/pg-backup-check.sh <args>` as an operator runs it: exit code and output. */
async function check(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('bash', ['scripts/pg-backup-check.sh', ...args], { cwd: ROOT, timeout: 400_000, maxBuffer: 16 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/**
 * docs/DEPLOY.md's PostgreSQL backup and restore, proved by scripts/pg-backup-check.sh (issue #17): one backup
 * of a cluster with real data (pg_dump, base backup + WAL archive, the file store), restored into fresh
 * clusters with the smoke test passing; and the same backup without its file store, whose restore must fail.
 */
describe('PostgreSQL backup and restore (scripts/pg-backup-check.sh)', () => {
  let tmp: string;
  let backup: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-pgbackup-'));
    backup = path.join(tmp, 'backup');
    const r = await check('backup', backup);
    expect(r.code, r.out).toBe(0);
    for (const f of ['ecabinet.dump', 'base/backup_manifest', 'wal', 'files', 'check.json']) expect(fs.existsSync(path.join(backup, f)), f).toBe(true);
  }, 420_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('restores the dump and the base backup (to a point in time) into fresh clusters: sign-in, meeting, document bytes, vote result, signed minutes, audit chain', async () => {
    const r = await check('restore', backup);
    expect(r.code, r.out).toBe(0);
    // Both restores ran every check (a step silently skipped would not print its line).
    for (const line of [/ok: document \d+: the uploaded bytes/g, /ok: vote \d+: \w+, counts/g, /ok: signed minutes version \d+: the same PDF bytes/g, /ok: npm run audit:verify: intact/g]) {
      expect(r.out.match(line)?.length, String(line)).toBe(2);
    }
    expect(r.out).toMatch(/ok: document \d+ \(uploaded after the dump\) absent/);
    expect(r.out).toMatch(/ok: document \d+ \(uploaded after the base backup, removed after the target time\): present with its bytes/);
  }, 420_000);

  it('a backup without its file store does not pass: the restored server cannot serve the document', async () => {
    const partial = path.join(tmp, 'no-files');
    fs.cpSync(backup, partial, { recursive: true, filter: (src) => src !== path.join(backup, 'files') });
    const r = await check('restore', partial);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/FAILED: document \d+: the uploaded bytes/);
  }, 420_000);
});
