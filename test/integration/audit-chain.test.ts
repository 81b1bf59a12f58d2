import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting, buildUser } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npm run audit:verify`'s script on a database file; resolves with its exit code and output. */
async function verify(file: string, ...extra: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', file, ...extra], { cwd: ROOT });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

// audit:verify on copies of the SQLite file, tampered with as an attacker holding the file would; the same on
// PostgreSQL is audit-chain.pg.test.ts. So this server is on SQLite under `npm run test:pg` too.
describe('tamper-evident audit log', () => {
  let s: TestServer;
  let file: string;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin', config: { database: { url: null } } });
    // Some history of our own: users, a committee, a meeting with items, published; and concurrent writes.
    const m = await buildMeeting(s, { members: 2, agendaItems: 2 });
    expect(m.meetingId).toBeGreaterThan(0);
    const admin = await s.login('admin');
    await Promise.all(Array.from({ length: 15 }, () => buildUser(s, { admin })));
    file = path.join(s.dataDir, 'copy.sqlite');
    await s.store.sqlite((db) => db.exec(`VACUUM INTO '${file}'`));
  });
  afterAll(() => s.close());

  /** A tampered copy of the database. */
  function tampered(name: string, sql: string): string {
    const out = path.join(s.dataDir, `${name}.sqlite`);
    const src = new Database(file, { readonly: true });
    src.exec(`VACUUM INTO '${out}'`);
    src.close();
    const db = new Database(out);
    db.exec(sql);
    db.close();
    return out;
  }
  const ids = () => {
    const db = new Database(file, { readonly: true });
    const r = db.prepare('SELECT id FROM audit_log ORDER BY id').pluck().all() as number[];
    db.close();
    return r;
  };

  it('every entry carries the previous entry\'s hash, also under concurrent writes, and audit:verify accepts the intact log', async () => {
    const rows = (await testSql(s).all('SELECT id, prev_hash, hash FROM audit_log ORDER BY id')) as { id: number; prev_hash: string | null; hash: string }[];
    expect(rows.length).toBeGreaterThan(25);
    for (let i = 0; i < rows.length; i++) {
      expect(rows[i].hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[i].prev_hash).toBe(i === 0 ? null : rows[i - 1].hash);
    }
    const r = await verify(file);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/intact/);
  });

  it('a changed entry is detected and named', async () => {
    const victim = ids()[5];
    const r = await verify(tampered('changed', `UPDATE audit_log SET actor_id = 999 WHERE id = ${victim}`));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`entry ${victim} was changed`);
  });

  it('a removed entry is detected and the gap named', async () => {
    const all = ids();
    const victim = all[7];
    const r = await verify(tampered('removed', `DELETE FROM audit_log WHERE id = ${victim}`));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`broken before entry ${all[8]}`);
    expect(r.out).toContain(`ids ${victim}–${victim}`);
  });

  it('reordered entries are detected and named', async () => {
    const all = ids();
    const [a, b] = [all[3], all[9]];
    const cols = 'actor_id, action, target_type, target_id, details, at, prev_hash, hash';
    const r = await verify(
      tampered(
        'reordered',
        `CREATE TEMP TABLE t AS SELECT id, ${cols} FROM audit_log WHERE id IN (${a}, ${b});
         UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.id = ${b}) WHERE id = ${a};
         UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.id = ${a}) WHERE id = ${b};`,
      ),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(`entry ${a} is out of order`);
    expect(r.out).toContain(`entry ${b} is out of order`);
  });

  it('entries removed from the end are detected against a recorded head', async () => {
    const intact = await verify(file);
    const head = /head (\d+:[0-9a-f]{64})/.exec(intact.out)![1];
    const last = ids().at(-1)!;
    const r = await verify(tampered('truncated', `DELETE FROM audit_log WHERE id = ${last}`), '--expect-head', head);
    expect(r.code).toBe(1);
    expect(r.out).toContain('is no longer in the log');
  });
});
