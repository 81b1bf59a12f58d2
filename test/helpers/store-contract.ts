import { count, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { rooms } from '../../server/db/tables.js';

/**
 * What every store promises (server/db/store.ts), run against each dialect by
 * test/integration/store.sqlite.test.ts and store.pg.test.ts. `open` gives a fresh, migrated store.
 */
export function storeContract(open: () => Store | Promise<Store>) {
  const roomsNamed = async (s: Store, name: string) => (await s.q.select({ n: count() }).from(rooms).where(eq(rooms.name, name)))[0].n;
  /** A promise and the function that resolves it. */
  function gate() {
    let release!: () => void;
    const p = new Promise<void>((r) => (release = r));
    return { p, release };
  }

  it('commits a transaction when its callback resolves, and gives back what it returned', async () => {
    const s = await open();
    const id = await s.tx(async (q) => {
      const [r] = await q.insert(rooms).values({ name: 'commit-a' }).returning({ id: rooms.id });
      await q.insert(rooms).values({ name: 'commit-a' });
      return r.id;
    });
    expect(typeof id).toBe('number');
    expect(await roomsNamed(s, 'commit-a')).toBe(2);
  });

  it('rolls back everything a transaction wrote when its callback throws', async () => {
    const s = await open();
    await expect(
      s.tx(async (q) => {
        await q.insert(rooms).values({ name: 'rollback-a' });
        await q.update(rooms).set({ location: 'x' }).where(eq(rooms.name, 'rollback-a'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await roomsNamed(s, 'rollback-a')).toBe(0);
  });

  it('a statement from another call chain never sees an open transaction’s writes, even one rolled back later', async () => {
    const s = await open();
    const inside = gate();
    const finish = gate();
    const t = s.tx(async (q) => {
      await q.insert(rooms).values({ name: 'dirty-a' });
      inside.release();
      await finish.p;
      throw new Error('changed my mind');
    });
    await inside.p;
    // Started while the transaction is open; on SQLite it waits for the end, on PostgreSQL it reads the committed state.
    const seen = roomsNamed(s, 'dirty-a');
    setTimeout(finish.release, 20);
    await expect(t).rejects.toThrow('changed my mind');
    expect(await seen).toBe(0);
    expect(await roomsNamed(s, 'dirty-a')).toBe(0);
  });

  it('store.q inside a transaction is the transaction: a helper called from it reads its writes', async () => {
    const s = await open();
    const helper = () => roomsNamed(s, 'join-a');
    const seen = await s.tx(async (q) => {
      await q.insert(rooms).values({ name: 'join-a' });
      return helper();
    });
    expect(seen).toBe(1);
  });

  it('a transaction inside another joins it: both commit or both roll back', async () => {
    const s = await open();
    await expect(
      s.tx(async () => {
        await s.q.insert(rooms).values({ name: 'nested-a' });
        await s.tx(async (q) => q.insert(rooms).values({ name: 'nested-a' }));
        expect(await roomsNamed(s, 'nested-a')).toBe(2);
        throw new Error('outer refused');
      }),
    ).rejects.toThrow('outer refused');
    expect(await roomsNamed(s, 'nested-a')).toBe(0);
  });

  it('transactions take turns: read-then-write from many call chains loses no update', async () => {
    const s = await open();
    const [r] = await s.tx((q) => q.insert(rooms).values({ name: 'counter-a', capacity: 0 }).returning({ id: rooms.id }));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.tx(async (q) => {
          const [row] = await q.select({ c: rooms.capacity }).from(rooms).where(eq(rooms.id, r.id));
          await new Promise((res) => setTimeout(res, 1));
          await q.update(rooms).set({ capacity: (row.c ?? 0) + 1 }).where(eq(rooms.id, r.id));
        }),
      ),
    );
    const [after] = await s.q.select({ c: rooms.capacity }).from(rooms).where(eq(rooms.id, r.id));
    expect(after.c).toBe(20);
  });

  it('work a transaction started but did not await does not write into it after it ended', async () => {
    const s = await open();
    let late: Promise<unknown> | undefined;
    await s.tx(async () => {
      late = new Promise((res) => setTimeout(res, 10)).then(() => s.q.insert(rooms).values({ name: 'late-a' }));
    });
    await expect(
      s.tx(async (q) => {
        await q.insert(rooms).values({ name: 'late-b' });
        // The late insert is attempted while this transaction is open.
        await new Promise((res) => setTimeout(res, 40));
        throw new Error('second refused');
      }),
    ).rejects.toThrow('second refused');
    await late;
    // The late insert waited for (SQLite) or ran beside (PostgreSQL) the second transaction: it is not rolled back with it.
    expect(await roomsNamed(s, 'late-a')).toBe(1);
    expect(await roomsNamed(s, 'late-b')).toBe(0);
  });
}
