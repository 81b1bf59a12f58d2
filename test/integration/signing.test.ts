import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import forge from 'node-forge';
import { renderMinutesPdf } from '../../server/minutes/minutes.pdf.js';
import { unlockSigner, unseal } from '../../server/signing/keystore.js';
import { signPdf } from '../../server/signing/pdf-sign.js';
import { runDemoMeeting } from '../../server/minutes/minutes.demo.js';
import { finalizeMinutes, signMinutes } from '../../server/minutes/minutes.service.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type BuiltMeeting, buildDemoCast } from '../helpers/factories.js';
import { type TestServer, startTestServer, userIds } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

const DOC = {
  parentBody: 'UBND Thành phố Hà Nội',
  issuingBody: 'Ban Chỉ đạo Chuyển đổi số',
  number: '01/BB-BCĐ',
  place: 'Hà Nội',
  date: '2026-12-01T01:30:00.000Z',
  subject: 'Phiên họp thử ký số',
  blocks: [{ t: 'p' as const, runs: [{ text: 'Đồng chí Chủ tọa kết luận: thống nhất triển khai ứng dụng số hóa hồ sơ.' }] }],
  chair: { name: 'Trần Sỹ Thanh', title: 'Chủ tịch' },
  secretary: { name: 'Phan Thị Thu', title: 'Chuyên viên' },
};

function pdftotext(pdf: Buffer): string {
  return execFileSync('/usr/bin/pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' });
}

describe('signing', () => {
  let s: TestServer;
  let ids: Record<string, number>;
  let m: BuiltMeeting;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    // The scripted meeting's cast (secretary, chair, member1…member12), in a committee and meeting of this test's own.
    m = await buildDemoCast(s);
    ids = await userIds(await s.login('admin'));
  });
  afterAll(() => s.close());

  it('the signed demo minutes (scripted meeting: attendance, speakers, a vote, a conclusion) carry two signatures that pdfsig reports valid; a byte-modified copy fails with a digest mismatch', async () => {
    const { ctx } = s.app;
    const as = (u: string) => ({ id: ids[u], username: u, fullName: '', title: null, unit: null, systemRole: 'user' as const, locale: 'vi' as const });
    await runDemoMeeting(ctx, m.meetingId);
    const v = await finalizeMinutes(ctx, as('secretary'), m.meetingId);
    await signMinutes(ctx, as('chair'), m.meetingId, v.version, '123456', v.contentHash);
    const pdf = (await signMinutes(ctx, as('secretary'), m.meetingId, v.version, '123456', v.contentHash)).pdf;

    const ok = pdfsig(pdf);
    expect(ok.signatures.map((x) => x.commonName)).toEqual(['Trần Sỹ Thanh', 'Phan Thị Thu']);
    expect(ok.signatures.map((x) => x.validation)).toEqual(['Signature is Valid.', 'Signature is Valid.']);
    expect(ok.signatures[1].totalDocumentSigned).toBe(true);
    const text = pdftotext(pdf);
    expect(text).toContain('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
    expect(text).toContain('BIÊN BẢN');
    expect(text).toMatch(/Kết quả: Thông qua/);
    expect(text).toContain('Vắng (lý do: Ốm)');
    expect(text).toContain('Ủy quyền cho Nguyễn Văn An');

    // Same-length edit inside the signed bytes (the document's producer string).
    const at = pdf.indexOf('E-Cabinet');
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(pdf);
    tampered[at + 2] = 'X'.charCodeAt(0);
    const bad = pdfsig(tampered);
    expect(bad.signatures).toHaveLength(2);
    for (const sig of bad.signatures) expect(sig.validation).toMatch(/Digest Mismatch/i);
  });

  it('keys are sealed at rest: the stored identity holds no PEM key and no clear PKCS#12, and /api/signing/me shows only the certificate', async () => {
    const { config } = s.app.ctx;
    const member = await m.login(m.members[0]);
    await unlockSigner(s.app.ctx, ids.member1, '123456');
    const row = (await testSql(s).get<Record<string, string>>('select * from signing_identities where user_id = ?', ids.member1))!;
    expect(JSON.stringify(row)).not.toMatch(/PRIVATE KEY/);
    // The clear envelope is JSON {"p12":"MII…","passphrase":…}; none of it may appear in the stored
    // blob, neither as text nor in its decoded bytes (the blob itself is random-looking base64,
    // so a bare substring test on it would fail by chance now and then).
    const stored = Buffer.from(row.sealed, 'base64').toString('latin1');
    for (const clear of ['"p12"', 'passphrase', '-----BEGIN']) {
      expect(row.sealed).not.toContain(clear);
      expect(stored).not.toContain(clear);
    }
    expect(await unseal(config.secret, '000000', row.sealed)).toBeNull();
    const me = await member.get('/api/signing/me');
    expect(me.status).toBe(200);
    expect(me.body.certificate.subject).toContain('CN=Nguyễn Văn An');
    expect(JSON.stringify(me.body)).not.toMatch(/sealed|PRIVATE|p12/i);
  });

  it('a wrong PIN is refused with attempts left, and after five wrong PINs even the right PIN is locked out', async () => {
    const c = await m.login(m.members[1]);
    const { config } = s.app.ctx;
    await unlockSigner(s.app.ctx, ids.member2, '123456');
    const first = await c.post('/api/signing/me/pin', { oldPin: '000000', newPin: '654321' });
    expect(first.status).toBe(403);
    expect(first.body.error).toMatchObject({ code: 'wrong_pin', details: { attemptsLeft: 4 } });
    for (let i = 0; i < 3; i++) expect((await c.post('/api/signing/me/pin', { oldPin: '000000', newPin: '654321' })).status).toBe(403);
    const fifth = await c.post('/api/signing/me/pin', { oldPin: '000000', newPin: '654321' });
    expect(fifth.status).toBe(423);
    expect(fifth.body.error.code).toBe('pin_locked');
    const right = await c.post('/api/signing/me/pin', { oldPin: '123456', newPin: '654321' });
    expect(right.status).toBe(423);
    expect((await c.get('/api/signing/me')).body.certificate.locked).toBe(true);
  });

  it('a user installs the real PKCS#12 issued to them under their own PIN; a wrong file password is refused with invalid_certificate; replacing needs the current PIN', async () => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '0badc0de';
    cert.validity.notBefore = new Date(Date.now() - 1000);
    cert.validity.notAfter = new Date(Date.now() + 86400_000);
    const admin = await s.login('admin');
    const fullName = ((await admin.get('/api/users')).body.users as { id: number; fullName: string }[]).find((u) => u.id === ids.member3)!.fullName;
    cert.setSubject([{ shortName: 'CN', value: fullName, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField]);
    cert.setIssuer([{ shortName: 'CN', value: 'Some Real CA' }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const p12 = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], 'file-pass', { algorithm: '3des' })).getBytes(), 'binary').toString('base64');
    const member = await m.login(m.members[2]);
    const wrong = await member.put('/api/signing/me/certificate', { p12Base64: p12, password: 'nope', pin: '24680' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('invalid_certificate');
    const had = (await member.get('/api/signing/me')).body.certificate;
    const body = { p12Base64: p12, password: 'file-pass', pin: '24680', ...(had ? { oldPin: '123456' } : {}) };
    const ok = await member.put('/api/signing/me/certificate', body);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ source: 'installed', subject: `CN=${fullName}`, issuer: 'CN=Some Real CA' });
    // Installing again (replacing) without the current PIN is refused.
    expect((await member.put('/api/signing/me/certificate', { p12Base64: p12, password: 'file-pass', pin: '13579' })).status).toBe(400);
    const signer = await unlockSigner(s.app.ctx, ids.member3, '24680');
    expect(signer.commonName).toBe(fullName);
    const signed = await signPdf(await renderMinutesPdf(DOC), signer, { reason: 'test', name: signer.commonName, location: 'Hà Nội', contactInfo: '', signingTime: new Date() });
    expect(pdfsig(signed).signatures[0].validation).toBe('Signature is Valid.');
  });
});
