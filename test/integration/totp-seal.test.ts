import { generateSecret } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.js';
import { sealClearTotpSecrets } from '../../server/auth/totp.repo.js';
import { buildUser } from '../helpers/factories.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/**
 * The start-up data migration that seals clear TOTP secrets (server/auth/totp.repo.ts), on whichever store
 * the suite runs (`npm run test:pg` too). The SQLite files' bytes are checked in security-totp-at-rest.test.ts.
 */
describe('sealing the clear TOTP secrets of an older database', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s.close());

  it('seals enrolled and pending secrets once; the owners keep using them; a second run changes nothing', async () => {
    const sql = testSql(s);
    const [enrolled, pending] = [await buildUser(s), await buildUser(s)];
    const [secretA, secretB] = [generateSecret(), generateSecret()];
    await sql.run('UPDATE users SET totp_secret = ? WHERE id = ?', secretA, enrolled.id);
    await sql.run('UPDATE users SET totp_secret = ? WHERE id = ?', `pending:${secretB}`, pending.id);
    const { store, config } = s.app.ctx;

    expect(await sealClearTotpSecrets(store, config.secret)).toBe(2);
    const stored = async () => (await sql.all<{ s: string }>('SELECT totp_secret AS s FROM users WHERE id IN (?, ?) ORDER BY id', enrolled.id, pending.id)).map((r) => r.s);
    const sealed = await stored();
    expect(sealed.map((v) => v.replace(/^(pending:)?v1\..*$/, '$1v1'))).toEqual(['v1', 'pending:v1']);
    expect(sealed.join()).not.toContain(secretA);
    expect(sealed.join()).not.toContain(secretB);

    const a = new HttpClient(s.url);
    expect((await a.post('/api/auth/login', { username: enrolled.username, password: enrolled.password })).body.restriction).toBe('mfa_required');
    expect((await a.post('/api/auth/mfa', { code: await totpCode(secretA) })).status).toBe(200);
    const b = await s.login(pending.username, pending.password);
    expect((await b.post('/api/auth/mfa/confirm', { code: await totpCode(secretB) })).body).toMatchObject({ mfaEnabled: true });

    const now = await stored();
    expect(await sealClearTotpSecrets(store, config.secret)).toBe(0);
    expect(await stored()).toEqual(now);
  });
});
