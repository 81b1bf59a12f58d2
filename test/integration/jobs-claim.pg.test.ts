import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { jobs } from '../../server/db/tables.js';
import { claimDue } from '../../server/jobs/jobs.repo.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';

describe('job claims on PostgreSQL (server/jobs/jobs.repo.ts)', () => {
  let pg: ThrowawayPg;
  let nodes: Store[];
  beforeAll(async () => {
    pg = await startThrowawayPg();
    const url = await pg.createDatabase('jobs_claim');
    // Two stores with their own pools: two server nodes' runners on one database.
    nodes = [await openPgStore(url), await openPgStore(url)];
  }, 120_000);
  afterAll(async () => {
    for (const s of nodes ?? []) await s.close();
    await pg?.stop();
  });

  it('runners of two nodes claiming at once take different jobs, and together all of them (FOR UPDATE SKIP LOCKED)', async () => {
    const [a, b] = nodes;
    const now = new Date().toISOString();
    const due = new Date(Date.now() - 1000).toISOString();
    for (let round = 0; round < 5; round++) {
      const keys = Array.from({ length: 40 }, (_, i) => `claim-${round}-${i}`);
      await a.q.insert(jobs).values(keys.map((key) => ({ kind: `claim-test-${round}`, key, runAt: due, payload: {} })));
      const claim = (s: Store, runnerId: string) => claimDue(s, { runnerId, kinds: [`claim-test-${round}`], now, staleBefore: due, limit: 30 });
      const [ra, rb] = await Promise.all([claim(a, 'node-a'), claim(b, 'node-b')]);
      const ids = [...ra, ...rb].map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(40);
      const rows = await a.q.select({ id: jobs.id, claimedBy: jobs.claimedBy, attempts: jobs.attempts }).from(jobs).where(inArray(jobs.key, keys));
      expect(rows.every((r) => r.attempts === 1)).toBe(true);
      for (const r of ra) expect(rows.find((x) => x.id === r.id)?.claimedBy).toBe('node-a');
    }
  });

  it('a claim whose lease expired is taken over; a fresh one is not', async () => {
    const [a, b] = nodes;
    const due = new Date(Date.now() - 120_000).toISOString();
    await a.q.insert(jobs).values({ kind: 'lease-test', key: 'lease-1', runAt: due, payload: {} });
    const first = await claimDue(a, { runnerId: 'node-a', kinds: ['lease-test'], now: new Date(Date.now() - 90_000).toISOString(), staleBefore: due, limit: 10 });
    expect(first).toHaveLength(1);
    const fresh = await claimDue(b, { runnerId: 'node-b', kinds: ['lease-test'], now: new Date().toISOString(), staleBefore: new Date(Date.now() - 120_000).toISOString(), limit: 10 });
    expect(fresh).toHaveLength(0);
    const taken = await claimDue(b, { runnerId: 'node-b', kinds: ['lease-test'], now: new Date().toISOString(), staleBefore: new Date(Date.now() - 60_000).toISOString(), limit: 10 });
    expect(taken.map((j) => [j.key, j.claimedBy, j.attempts])).toEqual([['lease-1', 'node-b', 2]]);
    const [row] = await a.q.select().from(jobs).where(eq(jobs.key, 'lease-1'));
    expect(row.status).toBe('claimed');
  });
});
