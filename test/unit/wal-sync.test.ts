import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WalSync } from '../../server/db/wal-sync.js';

function openWal() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-walsync-'));
  const db = new Database(path.join(dir, 'x.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table t (id integer primary key, v text)');
  return { db, dir, insert: db.prepare('insert into t (v) values (?)') };
}

describe('WalSync (group-committed fdatasync of the WAL)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a burst of callers shares a few fsyncs of the WAL file, and each resolves after one that started after its commit', async () => {
    const { db, dir, insert } = openWal();
    const sync = new WalSync(db);
    const started: number[] = [];
    const real = fs.fdatasync;
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      started.push(performance.now());
      return real(fd, cb);
    }) as typeof fs.fdatasync);
    const settled: { committedAt: number; resolvedAt: number }[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i % 5));
        insert.run(`ballot ${i}`);
        const committedAt = performance.now();
        await sync.durable();
        settled.push({ committedAt, resolvedAt: performance.now() });
      }),
    );
    expect(settled).toHaveLength(50);
    expect(spy.mock.calls.length).toBeGreaterThan(0);
    expect(spy.mock.calls.length).toBeLessThan(50);
    // Every caller was covered by a sync that started after its commit.
    for (const s of settled) expect(started.some((t) => t >= s.committedAt && t <= s.resolvedAt)).toBe(true);
    // It synced the -wal file itself.
    expect(fs.fstatSync(spy.mock.calls[0][0] as number).ino).toBe(fs.statSync(path.join(dir, 'x.sqlite-wal')).ino);
    sync.close();
    db.close();
  });

  it('a failed fsync rejects its waiting callers (no acknowledgement) and the next call syncs again', async () => {
    const { db, insert } = openWal();
    const sync = new WalSync(db);
    const real = fs.fdatasync;
    let fail = true;
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      if (fail) return setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
      return real(fd, cb);
    }) as typeof fs.fdatasync);
    insert.run('a');
    await expect(Promise.all([sync.durable(), sync.durable()])).rejects.toThrow('EIO');
    fail = false;
    insert.run('b');
    await expect(sync.durable()).resolves.toBeUndefined();
    sync.close();
    db.close();
  });

  it('an in-memory database has no WAL: durable() resolves at once without touching the disk', async () => {
    const db = new Database(':memory:');
    const spy = vi.spyOn(fs, 'fdatasync');
    await new WalSync(db).durable();
    expect(spy).not.toHaveBeenCalled();
  });
});
