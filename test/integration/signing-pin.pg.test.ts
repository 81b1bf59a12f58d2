import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { signingIdentities, users } from '../../server/db/tables.js';
import { MAX_PIN_ATTEMPTS, reservePinAttempt } from '../../server/signing/keystore.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';

describe('signing PIN attempts on PostgreSQL (server/signing/keystore.ts reservePinAttempt)', () => {
  let pg: ThrowawayPg;
  let nodes: Store[];
  beforeAll(async () => {
    pg = await startThrowawayPg();
    const url = await pg.createDatabase('signing_pin');
    // Two stores with their own pools: two server nodes taking PIN attempts on one database.
    nodes = [await openPgStore(url), await openPgStore(url)];
  }, 120_000);
  afterAll(async () => {
    for (const s of nodes ?? []) await s.close();
    await pg?.stop();
  });

  async function identity(username: string): Promise<number> {
    const [u] = await nodes[0].q.insert(users).values({ username, passwordHash: 'x', fullName: username }).returning({ id: users.id });
    await nodes[0].q.insert(signingIdentities).values({ userId: u.id, source: 'demo', certPem: 'pem', subject: 'CN=x', issuer: 'CN=ca', serial: '01', notAfter: '2030-01-01T00:00:00.000Z', sealed: 'sealed' });
    return u.id;
  }

  it('30 attempts at once from two nodes take exactly the limit of slots; the rest are refused unevaluated', async () => {
    const userId = await identity('pin-storm');
    const now = new Date();
    const got = await Promise.all(Array.from({ length: 30 }, (_, i) => reservePinAttempt(nodes[i % 2], userId, now)));
    const taken = got.filter((n): n is number => n !== null);
    expect(taken.sort((a, b) => a - b)).toEqual(Array.from({ length: MAX_PIN_ATTEMPTS }, (_, i) => i + 1));
    const [row] = await nodes[1].q.select({ n: signingIdentities.failedAttempts }).from(signingIdentities).where(eq(signingIdentities.userId, userId));
    expect(row.n).toBe(MAX_PIN_ATTEMPTS);
  });

  it('a lock in the future refuses every attempt; once it has passed, attempts count again', async () => {
    const userId = await identity('pin-locked');
    const now = new Date();
    const until = new Date(now.getTime() + 15 * 60_000).toISOString();
    await nodes[0].q.update(signingIdentities).set({ lockedUntil: until }).where(eq(signingIdentities.userId, userId));
    expect(await reservePinAttempt(nodes[1], userId, now)).toBeNull();
    expect(await reservePinAttempt(nodes[1], userId, new Date(Date.parse(until) - 1))).toBeNull();
    expect(await reservePinAttempt(nodes[1], userId, new Date(until))).toBe(1);
    expect(await reservePinAttempt(nodes[0], userId, new Date(Date.parse(until) + 60_000))).toBe(2);
  });
});
