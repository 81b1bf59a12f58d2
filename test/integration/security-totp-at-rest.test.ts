import fs from 'node:fs';
import path from 'node:path';
import { generateSecret } from 'otplib';
import { afterAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.js';
import { buildUser } from '../helpers/factories.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/** Every byte SQLite keeps of the database: the main file, its WAL and shared memory. */
function rawFiles(dataDir: string): Buffer {
  return Buffer.concat(
    fs
      .readdirSync(dataDir)
      .filter((f) => f.startsWith('ecabinet.sqlite'))
      .map((f) => fs.readFileSync(path.join(dataDir, f))),
  );
}

/**
 * Attacker with a copy of the database files (a stolen backup, a disk image): TOTP secrets must not
 * be there in clear, or the copy would generate anyone's second factor.
 */
describe('attacker: TOTP secrets are sealed at rest', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const start = async (dataDir?: string) => {
    const s = await startTestServer({ seed: 'admin', dataDir });
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
    s.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(rawFiles(s.dataDir).includes(secret)).toBe(false);
    const stored = s.db.$client.prepare('SELECT totp_secret s FROM users WHERE id = ?').get(u.id) as { s: string };
    expect(stored.s).toMatch(/^v1\./);

    // A sealed value copied onto another user's row does not open: no code is accepted for them.
    const other = await buildUser(s);
    s.db.$client.prepare('UPDATE users SET totp_secret = ? WHERE id = ?').run(stored.s, other.id);
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
    s.db.$client.prepare('UPDATE users SET totp_secret = ? WHERE id = ?').run(secretA, enrolled.id);
    s.db.$client.prepare('UPDATE users SET totp_secret = ? WHERE id = ?').run(`pending:${secretB}`, pending.id);
    s.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(rawFiles(s.dataDir).includes(secretA)).toBe(true); // the attack works on such a file
    await s.close();

    const again = await start(s.dataDir);
    for (const x of [secretA, secretB]) expect(rawFiles(again.dataDir).includes(x)).toBe(false);
    const rows = again.db.$client.prepare('SELECT id, totp_secret s FROM users WHERE id IN (?, ?) ORDER BY id').all(enrolled.id, pending.id) as { id: number; s: string }[];
    expect(rows.map((r) => r.s.replace(/^(pending:)?v1\..*$/, '$1v1'))).toEqual(['v1', 'pending:v1']);

    // The enrolled user signs in with a code of the old secret; the pending one finishes enrolling with theirs.
    const a = new HttpClient(again.url);
    expect((await a.post('/api/auth/login', { username: enrolled.username, password: enrolled.password })).body.restriction).toBe('mfa_required');
    expect((await a.post('/api/auth/mfa', { code: await totpCode(secretA) })).status).toBe(200);
    const b = await again.login(pending.username, pending.password);
    expect((await b.post('/api/auth/mfa/confirm', { code: await totpCode(secretB) })).body).toMatchObject({ mfaEnabled: true });

    // A second start finds nothing left to seal and changes nothing.
    const before = again.db.$client.prepare('SELECT totp_secret s FROM users WHERE id = ?').get(enrolled.id) as { s: string };
    await again.close();
    const third = await start(s.dataDir);
    expect((third.db.$client.prepare('SELECT totp_secret s FROM users WHERE id = ?').get(enrolled.id) as { s: string }).s).toBe(before.s);
  });
});
