import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCKOUT_STEPS_S, LoginThrottle } from '../../server/auth/login-throttle.js';
import { auditLog } from '../../server/db/tables.js';
import { MAX_PIN_ATTEMPTS, unlockSigner } from '../../server/signing/keystore.js';
import { buildUser } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/** A sign-in from a given source address (the server trusts X-Forwarded-For from its loopback proxy only). */
function loginFrom(s: TestServer, source: string, username: string, password: string) {
  return s.anonymous().post('/api/auth/login', { username, password }, { 'x-forwarded-for': source });
}

const codes = (rs: { status: number; body: any }[]) => {
  const out: Record<string, number> = {};
  for (const r of rs) {
    const k = r.status === 200 ? 'ok' : r.body?.error?.code;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

describe('throttles hold under concurrency and cannot lock the real user out', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin', config: { loginLimits: { perAccount: 5, perIp: 10_000 } } });
    admin = await s.login('admin');
  });
  afterAll(() => s.close());

  it('30 parallel wrong passwords evaluate at most 5 (the rest are rate_limited unchecked); then even the right password from that address waits', async () => {
    const u = await buildUser(s, { admin });
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => loginFrom(s, '10.0.0.1', u.username, `wrong-${i}`)));
    const c = codes(rs);
    expect(c.invalid_credentials, JSON.stringify(c)).toBe(5);
    expect(c.rate_limited).toBe(25);
    const limited = rs.find((r) => r.status === 429)!;
    expect(limited.body.error.details.retryAfterSeconds).toBeGreaterThan(0);
    const right = await loginFrom(s, '10.0.0.1', u.username, u.password);
    expect(right.status).toBe(429);
  });

  it("a failed-login storm against an account from address A does not stop its owner signing in from address B", async () => {
    const chair = await buildUser(s, { admin, name: 'Chủ tọa thử' });
    for (let i = 0; i < 40; i++) await loginFrom(s, '203.0.113.7', chair.username, `guess-${i}`);
    expect((await loginFrom(s, '203.0.113.7', chair.username, chair.password)).status).toBe(429);
    const fromB = await loginFrom(s, '198.51.100.20', chair.username, chair.password);
    expect(fromB.status).toBe(200);
    expect(fromB.body.username).toBe(chair.username);
    // And a wrong password from B is still counted for B only (the attacker's lock on A is unchanged).
    expect((await loginFrom(s, '198.51.100.20', chair.username, 'nope')).body.error.code).toBe('invalid_credentials');
  });

  it('a right password clears the failures of that address (four typos, then success, then four typos again are all evaluated)', async () => {
    const u = await buildUser(s, { admin });
    for (let i = 0; i < 4; i++) expect((await loginFrom(s, '10.0.0.2', u.username, 'typo')).body.error.code).toBe('invalid_credentials');
    expect((await loginFrom(s, '10.0.0.2', u.username, u.password)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await loginFrom(s, '10.0.0.2', u.username, 'typo')).body.error.code).toBe('invalid_credentials');
  });

  it('30 parallel wrong PINs on the PIN-change route evaluate at most the limit: one lock, and the right PIN is refused afterwards', async () => {
    const u = await buildUser(s, { admin });
    const c = await s.login(u.username, u.password);
    expect((await c.get('/api/signing/me')).status).toBe(200);
    // First use creates the demo identity (PIN 123456); do it once so the storm races only on the PIN.
    expect((await c.post('/api/signing/me/pin', { oldPin: '123456', newPin: '123456' })).status).toBe(204);
    const rs = await Promise.all(Array.from({ length: 30 }, () => c.post('/api/signing/me/pin', { oldPin: '000000', newPin: '654321' })));
    const got = codes(rs);
    expect(got.wrong_pin ?? 0, JSON.stringify(got)).toBeLessThanOrEqual(MAX_PIN_ATTEMPTS - 1);
    expect((got.wrong_pin ?? 0) + (got.pin_locked ?? 0)).toBe(30);
    const locks = await s.app.ctx.store.q
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'signing.pin_locked'), eq(auditLog.actorId, u.id)));
    expect(locks).toHaveLength(1);
    expect((await c.post('/api/signing/me/pin', { oldPin: '123456', newPin: '654321' })).body.error.code).toBe('pin_locked');
  });

  it('30 parallel wrong PINs on the signing path (unlockSigner, what POST …/minutes/sign calls) evaluate at most the limit', async () => {
    const u = await buildUser(s, { admin });
    const c = await s.login(u.username, u.password);
    expect((await c.post('/api/signing/me/pin', { oldPin: '123456', newPin: '123456' })).status).toBe(204);
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => unlockSigner(s.app.ctx, u.id, '999999')));
    const byCode = codes(results.map((r) => ({ status: 0, body: { error: { code: r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok' } } })));
    expect(byCode.wrong_pin ?? 0, JSON.stringify(byCode)).toBeLessThanOrEqual(MAX_PIN_ATTEMPTS - 1);
    expect(byCode.ok).toBeUndefined();
    await expect(unlockSigner(s.app.ctx, u.id, '123456')).rejects.toMatchObject({ code: 'pin_locked' });
  });
});

describe('login lockouts are progressive per account and source', () => {
  it('the n-th lockout of a pair lasts longer (1 min, 5 min, 15 min, 1 h); other pairs are unaffected', async () => {
    vi.useFakeTimers();
    try {
      const t = new LoginThrottle({ perAccount: 5, perIp: 10_000 });
      const failFive = async (source: string) => {
        for (let i = 0; i < 5; i++) (await t.begin('chair', source)).failed();
        await vi.advanceTimersByTimeAsync(0);
      };
      const retryAfter = async (source: string) => {
        try {
          await t.begin('chair', source);
          return 0;
        } catch (e) {
          return (e as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds;
        }
      };
      for (const step of LOCKOUT_STEPS_S) {
        await failFive('A');
        expect(await retryAfter('A')).toBe(step);
        expect(await retryAfter('B'), 'another source is not locked').toBe(0);
        await vi.advanceTimersByTimeAsync(step * 1000 + 1000);
      }
      await failFive('A');
      expect(await retryAfter('A')).toBe(LOCKOUT_STEPS_S.at(-1));
    } finally {
      vi.useRealTimers();
    }
  });
});
