import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { dbObserver } from './observe.js';

/**
 * Power-loss durability without blocking the event loop. The database runs WAL with
 * `synchronous = NORMAL`: a commit writes its WAL frames to the OS (so it survives `kill -9`) but does
 * not fsync. `durable()` then `fdatasync`s the WAL file on libuv's thread pool and resolves when the
 * frames of every transaction committed before the call are on disk — what `synchronous = FULL` does
 * inside the commit, where the fsync (measured 0.2–12 ms on this machine's disk) would stall every socket
 * of the process. One sync is in flight at a time; callers arriving meanwhile share the next one (group
 * commit), so a burst of ballots costs a few fsyncs, not one each.
 *
 * Why it is equivalent: SQLite appends each commit's frames to the `-wal` file and, under FULL, syncs that
 * file before returning; fsync is per file (inode), so syncing it from our own descriptor makes the same
 * frames durable. A checkpoint restarts the WAL in place (same inode) and, at NORMAL, syncs the database
 * file before it does; if the file is ever replaced (new inode), the descriptor is reopened.
 */
export class WalSync {
  private fd: number | null = null;
  private ino = -1;
  private inFlight = false;
  private closed = false;
  private waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly sqlite: Database.Database) {}

  /** Resolves once everything committed before this call is on disk; rejects if the sync failed. */
  durable(): Promise<void> {
    if (this.sqlite.memory) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.kick();
    });
  }

  /** Closes the descriptor once no sync is in flight (server shutdown). */
  close(): void {
    this.closed = true;
    if (!this.inFlight) this.release();
  }

  private kick(): void {
    if (this.inFlight || this.waiting.length === 0) return;
    const group = this.waiting;
    this.waiting = [];
    let fd: number;
    try {
      fd = this.walFd();
    } catch (e) {
      for (const w of group) w.reject(e as Error);
      return;
    }
    this.inFlight = true;
    const start = performance.now();
    fs.fdatasync(fd, (err) => {
      this.inFlight = false;
      if (!err) dbObserver(this.sqlite)?.walSync?.((performance.now() - start) / 1000);
      for (const w of group) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (this.closed) this.release();
      else this.kick();
    });
  }

  private walFd(): number {
    const file = `${this.sqlite.name}-wal`;
    const ino = fs.statSync(file).ino;
    if (this.fd === null || ino !== this.ino) {
      this.release();
      this.fd = fs.openSync(file, 'r');
      this.ino = ino;
    }
    return this.fd;
  }

  private release(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
