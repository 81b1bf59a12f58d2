import fs from 'node:fs';
import path from 'node:path';
import { generateSecret } from 'otplib';
import { afterAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.js';
import { buildUser } from '../helpers/factories.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/** Every byte SQLite keeps of the database: the main file, its WAL and shared memory. */
function rawFiles(dataDir: string): Buffer {
  return Buffer.concat(
    fs
      .readdirSync(dataDir)
      .filter((f) => f.startsWith('ecabinet.sqlite'))
      .map((f) => fs.readFileSync(path.join(dataDir, f))),
  );
}

/** Folds the WAL into the main file and empties it. */
const checkpoint = (s: TestServer) => s.store.sqlite((db) => db.pragma('wal_checkpoint(TRUNCATE)'));

/**
 * Attacker with a copy of the database files (a stolen backup, a disk image): TOTP secrets must not
 * be there in clear, or the copy would generate anyone's second factor. These read SQLite's files, so
 * the servers are on SQLite under `npm run test:pg` too; the same attacker on PostgreSQL's files is
 * security-totp-at-rest.pg.test.ts.
 */
describe('attacker: TOTP secrets are sealed at rest', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const start = async (dataDir?: string) => {
    const s = await startTestServer({ seed: 'admin', dataDir, config: { database: { url: null } } });
    servers.push(s);
    return s;
  };

  it('no secret — pending or enrolled — is in the database files, and codes still work after a restart', async () => {
    const s = await start();
    const u = await buildUser(s);
    const c = await s.login(u.username, u.password);
    const enrol = await c.post('/api/auth/mfa/enrol');
    expect(enrol.status).toBe(200);
    const secret = enrol.body.secret as string;
    // While the enrolment is pending…
    expect(rawFiles(s.dataDir).includes(secret)).toBe(false);
    expect((await c.post('/api/auth/mfa/confirm', { code: await totpCode(secret) })).status).toBe(200);
    // …and once enrolled: the file, the WAL, after a checkpoint too.
    expect(rawFiles(s.dataDir).includes(secret)).toBe(false);
    await checkpoint(s);
    expect(rawFiles(s.dataDir).includes(secret)).toBe(false);
    const stored = (await testSql(s).value<string>('SELECT totp_secret FROM users WHERE id = ?', u.id))!;
    expect(stored).toMatch(/^v1\./);

    // A sealed value copied onto another user's row does not open: no code is accepted for them.
    const other = await buildUser(s);
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', stored, other.id);
    const o = new HttpClient(s.url);
    expect((await o.post('/api/auth/login', { username: other.username, password: other.password })).body.restriction).toBe('mfa_required');
    expect((await o.post('/api/auth/mfa', { code: await totpCode(secret) })).status).toBe(401);

    // Restarted on the same files (same server secret): the owner's codes work.
    await s.close();
    const again = await start(s.dataDir);
    const a = new HttpClient(again.url);
    expect((await a.post('/api/auth/login', { username: u.username, password: u.password })).body.restriction).toBe('mfa_required');
    expect((await a.post('/api/auth/mfa', { code: await totpCode(secret, Date.now() + 30_000) })).status).toBe(200);
  });

  it('a database from before sealing: its clear secrets are sealed at start, leave the files, and keep working', async () => {
    const s = await start();
    const [enrolled, pending] = [await buildUser(s), await buildUser(s)];
    const [secretA, secretB] = [generateSecret(), generateSecret()];
    // What an older server wrote: the Base32 secrets as they are.
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', secretA, enrolled.id);
    await testSql(s).run('UPDATE users SET totp_secret = ? WHERE id = ?', `pending:${secretB}`, pending.id);
    await checkpoint(s);
    expect(rawFiles(s.dataDir).includes(secretA)).toBe(true); // the attack works on such a file
    await s.close();

    const again = await start(s.dataDir);
    for (const x of [secretA, secretB]) expect(rawFiles(again.dataDir).includes(x)).toBe(false);
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
    const third = await start(s.dataDir);
    expect(await secretOf(third)).toBe(before);
  });
});
