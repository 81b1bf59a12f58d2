import crypto from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/** A self-signed PKCS#12 (base64) whose subject CN is `cn`. */
function p12For(cn: string, password: string): string {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = crypto.randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 1000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  const attrs = [{ shortName: 'CN', value: cn, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], password, { algorithm: '3des' })).getBytes(), 'binary').toString('base64');
}

describe('attacker: signatures are bound to the person the certificate names', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  let admin: HttpClient;
  let chair: HttpClient;
  const CHAIR_PIN = '864209';
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    admin = await s.login('admin');
    chair = await m.as('chair');
    const own = await chair.post('/api/signing/me/certificate/demo', { pin: CHAIR_PIN });
    expect(own.status).toBe(200);
  });
  afterAll(() => s.close());

  /** The minutes' latest finalized version (finalized now if there is none). */
  async function latestVersion(): Promise<{ version: number; contentHash: string }> {
    const sec = await m.as('secretary');
    const v = (await sec.get(`/api/meetings/${m.meetingId}/minutes`)).body.versions.at(-1);
    if (v) return v;
    const f = await sec.post(`/api/meetings/${m.meetingId}/minutes/finalize`);
    expect(f.status).toBe(201);
    return f.body;
  }

  it('nobody installs a certificate for another user: the admin route is gone and "me" routes only touch the caller', async () => {
    const p12 = p12For(m.chair.fullName, 'file-pass');
    const r = await admin.put(`/api/admin/users/${m.chair.id}/certificate`, { p12Base64: p12, password: 'file-pass', pin: '111111' });
    expect(r.status).toBe(404);
    const before = (await chair.get('/api/signing/me')).body.certificate;
    // The admin's own "me" routes install for the admin (and only with the admin's name).
    const mine = await admin.put('/api/signing/me/certificate', { p12Base64: p12, password: 'file-pass', pin: '111111' });
    expect(mine.status).toBe(422);
    expect(mine.body.error.code).toBe('certificate_mismatch');
    expect((await chair.get('/api/signing/me')).body.certificate).toEqual(before);
  });

  it('a certificate that names someone else is refused with certificate_mismatch; one naming the user is accepted under their PIN', async () => {
    const member = await m.as('member', 0);
    const other = await member.put('/api/signing/me/certificate', { p12Base64: p12For('Người Khác Hẳn', 'pw'), password: 'pw', pin: '2468' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('certificate_mismatch');
    // Same name, other case and spacing: accepted.
    const ok = await member.put('/api/signing/me/certificate', { p12Base64: p12For(`  ${m.members[0].fullName.toUpperCase()} `, 'pw'), password: 'pw', pin: '2468' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ source: 'installed', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('an admin who resets the chair\'s password and signs in as the chair can neither replace the certificate nor sign the minutes', async () => {
    const temporary = `Tạm-${crypto.randomBytes(9).toString('base64url')}`;
    expect((await admin.patch(`/api/users/${m.chair.id}`, { password: temporary })).status).toBe(200);
    const intruder = new HttpClient(s.url);
    expect((await intruder.post('/api/auth/login', { username: m.chair.username, password: temporary })).status).toBe(200);
    // If the reset forces a change, the intruder (who knows the temporary password) makes it.
    await intruder.post('/api/auth/password', { currentPassword: temporary, newPassword: `Intruder-${crypto.randomBytes(9).toString('base64url')}` });
    const cert = (await intruder.get('/api/signing/me')).body.certificate;
    expect(cert.source).toBe('demo');

    const swap = await intruder.put('/api/signing/me/certificate', { p12Base64: p12For(m.chair.fullName, 'x'), password: 'x', pin: '000000' });
    expect(swap.status).toBe(400);
    const demo = await intruder.post('/api/signing/me/certificate/demo', { pin: '000000', oldPin: '123456' });
    expect(demo.status).toBe(403);
    expect(demo.body.error.code).toBe('wrong_pin');
    expect((await intruder.get('/api/signing/me')).body.certificate.fingerprint).toBe(cert.fingerprint);

    const v1 = await latestVersion();
    const forged = await intruder.post(`/api/meetings/${m.meetingId}/minutes/versions/${v1.version}/sign`, { pin: '123456', contentHash: v1.contentHash });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('wrong_pin');
  });

  it('the audit log records who signed with which certificate (SHA-256 fingerprint)', async () => {
    const sec = await m.as('secretary');
    const v = await latestVersion();
    const secPin = '97531';
    expect((await sec.post('/api/signing/me/certificate/demo', { pin: secPin })).status).toBe(200);
    const fp = (await sec.get('/api/signing/me')).body.certificate.fingerprint;
    const r = await sec.post(`/api/meetings/${m.meetingId}/minutes/versions/${v.version}/sign`, { pin: secPin, contentHash: v.contentHash });
    expect(r.status).toBe(200);
    const row = (await testSql(s).get(`SELECT actor_id AS "actorId", details FROM audit_log WHERE action = 'minutes.sign' AND target_id = ? ORDER BY id DESC LIMIT 1`, String(m.meetingId))) as { actorId: number; details: string };
    expect(row.actorId).toBe(m.secretary.id);
    expect(JSON.parse(row.details)).toMatchObject({ role: 'secretary', certFingerprint: fp });
    const x509 = new crypto.X509Certificate(
      ((await testSql(s).get('SELECT cert_pem FROM signing_identities WHERE user_id = ?', m.secretary.id)) as { cert_pem: string }).cert_pem,
    );
    expect(fp).toBe(x509.fingerprint256.replace(/:/g, '').toLowerCase());
  });
});
