import fs from 'node:fs';
import path from 'node:path';
import { generateSecret } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.js';
import { buildUser } from '../helpers/factories.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/** Files directly in `dir` whose bytes contain `needle`, as `<label>/<name>`. */
function filesHolding(dir: string, label: string, needle: string, only: (name: string) => boolean = () => true): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && only(d.name) && fs.readFileSync(path.join(dir, d.name)).includes(needle))
    .map((d) => `${label}/${d.name}`);
}

/**
 * Everywhere an attacker finds `needle` in the server's PostgreSQL database: in a row of any table read
 * as text (a superuser's SQL, a pg_dump); in the database's relation files (tables, indexes, TOAST: a
 * stolen base backup or disk image), after a checkpoint has written every change to them; in the WAL.
 * The cluster is this file's own, so the whole WAL is this test's.
 */
async function whereIs(s: TestServer, needle: string): Promise<string[]> {
  const sql = testSql(s);
  const found: string[] = [];
  const tables = await sql.column<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
  expect(tables).toContain('users');
  for (const t of tables) {
    if (await sql.value<number>(`SELECT count(*) FROM "${t}" r WHERE strpos(r::text, ?) > 0`, needle)) found.push(`table ${t}`);
  }
  await sql.run('CHECKPOINT');
  const dataDir = (await sql.value<string>('SHOW data_directory'))!;
  const oid = await sql.value<number>('SELECT oid FROM pg_database WHERE datname = current_database()');
  found.push(...filesHolding(path.join(dataDir, 'base', String(oid)), 'base', needle));
  found.push(...filesHolding(path.join(dataDir, 'pg_wal'), 'pg_wal', needle, (n) => /^[0-9A-F]{24}$/.test(n)));
  return found;
}

/**
 * The attacker of security-totp-at-rest.test.ts on PostgreSQL: whoever reads the database (its rows,
 * its files, its WAL) must not find a TOTP secret in clear, or they would generate anyone's second factor.
 */
describe('attacker: TOTP secrets are sealed at rest on PostgreSQL', () => {
  let pg: ThrowawayPg;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    pg = await startThrowawayPg();
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await pg?.stop();
  });
  const start = async (url: string, dataDir?: string) => {
    const s = await startTestServer({ seed: 'admin', dataDir, config: { database: { url } } });
    servers.push(s);
    return s;
  };

  it('no secret — pending or enrolled — is in any row, relation file or the WAL, and codes still work after a restart', async () => {
    const url = await pg.createDatabase('totp_enrol');
    const s = await start(url);
    const u = await buildUser(s);
    const c = await s.login(u.username, u.password);
    const enrol = await c.post('/api/auth/mfa/enrol');
    expect(enrol.status).toBe(200);
    const secret = enrol.body.secret as string;
    // While the enrolment is pending…
    expect(await whereIs(s, secret)).toEqual([]);
    expect((await c.post('/api/auth/mfa/confirm', { code: await totpCode(secret) })).status).toBe(200);
    // …and once enrolled.
    expect(await whereIs(s, secret)).toEqual([]);
    const stored = (await testSql(s).value<string>('SELECT totp_secret FROM users WHERE id = ?', u.id))!;
    expect(stored).toMatch(/^v1\./);

    // A sealed value copied onto another user's row does not open: no code is accepted for them.
    const other = await buildUser(s);
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', stored, other.id);
    const o = new HttpClient(s.url);
    expect((await o.post('/api/auth/login', { username: other.username, password: other.password })).body.restriction).toBe('mfa_required');
    expect((await o.post('/api/auth/mfa', { code: await totpCode(secret) })).status).toBe(401);

    // Restarted on the same database (same server secret): the owner's codes work.
    await s.close();
    const again = await start(url, s.dataDir);
    const a = new HttpClient(again.url);
    expect((await a.post('/api/auth/login', { username: u.username, password: u.password })).body.restriction).toBe('mfa_required');
    expect((await a.post('/api/auth/mfa', { code: await totpCode(secret, Date.now() + 30_000) })).status).toBe(200);
  }, 120_000);

  it('a database from before sealing: its clear secrets are sealed at start and keep working', async () => {
    const url = await pg.createDatabase('totp_legacy');
    const s = await start(url);
    const [enrolled, pending] = [await buildUser(s), await buildUser(s)];
    const [secretA, secretB] = [generateSecret(), generateSecret()];
    // What an older server wrote: the Base32 secrets as they are.
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', secretA, enrolled.id);
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', `pending:${secretB}`, pending.id);
    // The attack works on such a database: the row, its file and the WAL all give the secret away.
    expect(await whereIs(s, secretA)).toEqual(expect.arrayContaining(['table users', expect.stringMatching(/^base\//), expect.stringMatching(/^pg_wal\//)]));
    await s.close();

    // Sealed at start: no row holds them any more. The superseded tuple versions stay in the relation file
    // until the next (auto)vacuum, and in the WAL: PostgreSQL cannot zero them at once (docs/SECURITY.md).
    const again = await start(url, s.dataDir);
    for (const x of [secretA, secretB]) expect((await whereIs(again, x)).filter((w) => w.startsWith('table '))).toEqual([]);
    const rows = await testSql(again).column<string>('SELECT totp_secret FROM users WHERE id IN (?, ?) ORDER BY id', enrolled.id, pending.id);
    expect(rows.map((r) => r.replace(/^(pending:)?v1\..*$/, '$1v1'))).toEqual(['v1', 'pending:v1']);

    // The enrolled user signs in with a code of the old secret; the pending one finishes enrolling with theirs.
    const a = new HttpClient(again.url);
    expect((await a.post('/api/auth/login', { username: enrolled.username, password: enrolled.password })).body.restriction).toBe('mfa_required');
    expect((await a.post('/api/auth/mfa', { code: await totpCode(secretA) })).status).toBe(200);
    const b = await again.login(pending.username, pending.password);
    expect((await b.post('/api/auth/mfa/confirm', { code: await totpCode(secretB) })).body).toMatchObject({ mfaEnabled: true });

    // A second start finds nothing left to seal and changes nothing.
    const secretOf = (server: TestServer) => testSql(server).value<string>('SELECT totp_secret FROM users WHERE id = ?', enrolled.id);
    const before = await secretOf(again);
    await again.close();
    const third = await start(url, s.dataDir);
    expect(await secretOf(third)).toBe(before);
  }, 120_000);
});
