import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, verifyStoredAuditChain } from '../../server/audit/audit.repo.js';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('tamper-evident audit log on PostgreSQL (verifyStoredAuditChain, npm run audit:verify with DATABASE_URL)', () => {
  let pg: ThrowawayPg;
  let url: string;
  let store: Store;
  const raw = (q: ReturnType<typeof sql>) => (store.q as unknown as NodePgDatabase).execute(q);
  /** `npm run audit:verify` against the PostgreSQL database; its exit code and output. */
  const verify = async () => {
    try {
      const r = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url } });
      return { code: 0, out: r.stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, out: e.stdout };
    }
  };

  beforeAll(async () => {
    pg = await startThrowawayPg();
    url = await pg.createDatabase('audit_chain');
    store = await openPgStore(url);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  it('entries written by audit() in transactions and alone chain up and verify; a changed entry is named, by the function and by audit:verify', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2
          ? store.tx(async (q) => audit(q, { actorId: null, action: 'test.tx', targetType: 'meeting', targetId: i, details: { i, text: 'Biên bản "có dấu"' } }))
          : audit(store.q, { actorId: null, action: 'test.alone', targetType: 'meeting', targetId: i }),
      ),
    );
    const intact = await verifyStoredAuditChain(store);
    expect(intact).toMatchObject({ ok: true, entries: 6, problems: [] });
    expect((await verify()).code).toBe(0);

    const victim = intact.head!.id - 2;
    await raw(sql`UPDATE audit_log SET action = 'test.rewritten' WHERE id = ${victim}`);
    const tampered = await verifyStoredAuditChain(store);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems).toEqual([expect.objectContaining({ id: victim, kind: 'changed' })]);
    const cli = await verify();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`entry ${victim} was changed`);
  }, 60_000);
});
