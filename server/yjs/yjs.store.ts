import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database, { type Statement } from 'better-sqlite3';
import type { Db } from '../db/client.js';

/**
 * The store's worker thread, on its own connection:
 * - runs `PRAGMA wal_checkpoint(PASSIVE)` periodically. In WAL mode a passive checkpoint runs
 *   concurrently with writers, so the fsyncs of checkpointing never block the event loop that
 *   broadcasts Yjs updates (measured: 4–20 ms stalls otherwise);
 * - compacts documents on request (`compact`): rebuilds the document from its committed rows up
 *   to a row id, re-encodes it and replaces those rows by one, in one short transaction. The
 *   rebuild and encoding (tens of ms for a large annotation layer) never run on the event loop.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const Y = require(workerData.yjs);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
let compactDb = null;
const compact = (docName, upTo) => {
  if (!compactDb) {
    compactDb = new Database(workerData.file, { fileMustExist: true });
    compactDb.pragma('busy_timeout = 5000');
  }
  const rows = compactDb.prepare('SELECT id, data FROM yjs_updates WHERE doc_name = ? AND id <= ? ORDER BY id').all(docName, upTo);
  if (rows.length <= 1) return { removed: 0, removedBytes: 0, bytes: 0 };
  const doc = new Y.Doc();
  let removedBytes = 0;
  doc.transact(() => {
    for (const r of rows) {
      removedBytes += r.data.byteLength;
      try { Y.applyUpdate(doc, r.data); } catch {}
    }
  });
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  const ins = compactDb.prepare('INSERT INTO yjs_updates (doc_name, data) VALUES (?, ?)');
  const del = compactDb.prepare('DELETE FROM yjs_updates WHERE id IN (SELECT id FROM yjs_updates WHERE doc_name = ? AND id <= ? LIMIT 256)');
  // Short write transactions only (the event loop's appends wait for this connection's lock, and
  // SQLite's busy handler sleeps in growing steps): first the state row, then the old rows in
  // chunks. A crash in between leaves the state row plus some old rows: the same content twice,
  // which Yjs applies idempotently.
  let removed = 0;
  const inserted = compactDb.transaction(() => {
    // Rows a synchronous compaction replaced meanwhile are gone: only replace what is still there.
    const still = compactDb.prepare('SELECT count(*) AS n FROM yjs_updates WHERE doc_name = ? AND id <= ?').get(docName, upTo).n;
    if (still !== rows.length) return false;
    ins.run(docName, Buffer.from(state.buffer, state.byteOffset, state.byteLength));
    return true;
  }).immediate();
  if (inserted) for (let n = 1; n > 0; removed += n) n = del.run(docName, upTo).changes;
  return { removed, removedBytes: removed ? removedBytes : 0, bytes: removed ? state.byteLength : 0 };
};
parentPort.on('message', (m) => {
  if (m && m.type === 'compact') {
    try { parentPort.postMessage({ id: m.id, result: compact(m.docName, m.upTo) }); }
    catch (err) { parentPort.postMessage({ id: m.id, error: String(err && err.message || err) }); }
    return;
  }
  clearInterval(timer); checkpoint(); db.close(); if (compactDb) compactDb.close(); parentPort.close();
});
`;

/**
 * Where the hub keeps the updates of its documents (table `yjs_updates`): on SQLite `YjsStore` below,
 * on PostgreSQL `PgYjsStore` (yjs.store.pg.ts). Every write is committed when its promise resolves.
 */
export interface YjsUpdateStore {
  /** Appends updates in one transaction; resolves with their row ids once committed. */
  /** `meetingId`: the meeting a row's document belongs to (several server nodes, #18: the PostgreSQL store fences the write by its lease). */
  append(rows: { docName: string; data: Uint8Array; meetingId?: number | null }[]): Promise<number[]>;
  /** Every stored update of a document, oldest first. */
  load(docName: string): Promise<{ id: number; data: Uint8Array }[]>;
  /**
   * Replaces every stored row of a document with one row holding `state`, in one transaction;
   * resolves with the new row's id. `state` must hold all of them (see `Compaction.compact`).
   */
  replaceAll(docName: string, state: Uint8Array, meetingId?: number | null): Promise<number>;
  /** Whether `compactInWorker` compacts off the event loop (else the hub compacts in place). */
  readonly hasWorker: boolean;
  /**
   * Compacts the committed rows of a document up to `upToId` off the event loop; rejects when this
   * store cannot (the caller compacts in place).
   */
  compactInWorker(docName: string, upToId: number): Promise<CompactResult | null>;
  close(): Promise<void>;
}

/**
 * SQLite persistence of Yjs updates (table `yjs_updates`), on prepared statements and its own
 * connection to the app's database file, with automatic checkpoints off on that connection and
 * done by a background checkpointer instead: the hub calls `append` once per event-loop turn with
 * every update received in that turn, in one transaction, and broadcasts only after it returns.
 * Durability is the app's: WAL, synchronous=NORMAL — a committed row survives `kill -9`.
 */
export class YjsStore implements YjsUpdateStore {
  private conn: Database.Database;
  private checkpointer: Worker | null = null;
  get hasWorker(): boolean {
    return this.checkpointer !== null;
  }
  private nextJob = 1;
  private jobs = new Map<number, { resolve: (r: CompactResult | null) => void; reject: (e: Error) => void }>();
  private insertStmt: Statement<[string, Buffer]>;
  private loadStmt: Statement<[string], { id: number; data: Buffer }>;
  private deleteAllStmt: Statement<[string]>;
  private appendTx: (rows: { docName: string; data: Uint8Array }[]) => number[];
  private replaceTx: (docName: string, state: Uint8Array) => number;

  constructor(db: Db, { checkpointIntervalMs = 1000 } = {}) {
    const file = db.$client.name;
    const c = new Database(file, { fileMustExist: true });
    c.pragma('journal_mode = WAL');
    c.pragma('synchronous = NORMAL');
    c.pragma('busy_timeout = 5000');
    c.pragma('wal_autocheckpoint = 0');
    this.conn = c;
    this.insertStmt = c.prepare('INSERT INTO yjs_updates (doc_name, data) VALUES (?, ?)');
    this.loadStmt = c.prepare('SELECT id, data FROM yjs_updates WHERE doc_name = ? ORDER BY id');
    this.deleteAllStmt = c.prepare('DELETE FROM yjs_updates WHERE doc_name = ?');
    this.appendTx = c.transaction((rows: { docName: string; data: Uint8Array }[]) =>
      rows.map((r) => Number(this.insertStmt.run(r.docName, toBuffer(r.data)).lastInsertRowid)),
    );
    this.replaceTx = c.transaction((docName: string, state: Uint8Array) => {
      this.deleteAllStmt.run(docName);
      return Number(this.insertStmt.run(docName, toBuffer(state)).lastInsertRowid);
    });
    const require = createRequire(import.meta.url);
    this.checkpointer = new Worker(WORKER, {
      eval: true,
      workerData: { file, driver: require.resolve('better-sqlite3'), yjs: require.resolve('yjs'), intervalMs: checkpointIntervalMs },
    });
    this.checkpointer.unref();
    this.checkpointer.on('message', (m: { id: number; result?: CompactResult; error?: string }) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (m.error !== undefined) job.reject(new Error(m.error));
      else job.resolve(m.result ?? null);
    });
    this.checkpointer.on('error', () => {
      // Without the worker, let this connection checkpoint by itself again.
      this.checkpointer = null;
      if (this.conn.open) this.conn.pragma('wal_autocheckpoint = 1000');
      for (const j of this.jobs.values()) j.reject(new Error('yjs store worker died'));
      this.jobs.clear();
    });
  }

  /**
   * Compacts the committed rows of a document up to `upToId` in the worker thread (see WORKER).
   * Resolves with what was replaced (`removed` 0: nothing to do, or a synchronous compaction
   * got there first); rejects when there is no worker (the caller compacts in place).
   */
  compactInWorker(docName: string, upToId: number): Promise<CompactResult | null> {
    const w = this.checkpointer;
    if (!w) return Promise.reject(new Error('no yjs store worker'));
    const id = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      w.postMessage({ type: 'compact', id, docName, upTo: upToId });
    });
  }

  // The writes below are synchronous on this connection (committed before the promise is even created).
  async append(rows: { docName: string; data: Uint8Array }[]): Promise<number[]> {
    return rows.length ? this.appendTx(rows) : [];
  }

  async load(docName: string): Promise<{ id: number; data: Buffer }[]> {
    return this.loadStmt.all(docName);
  }

  /**
   * `state` must hold every row: the caller flushed its pending updates first, and a background
   * compaction's row (which may have been written after the caller's last known row id) holds a
   * subset of the same document.
   */
  async replaceAll(docName: string, state: Uint8Array): Promise<number> {
    return this.replaceTx(docName, state);
  }

  /** Stops the checkpointer (after a last checkpoint) and closes the connection. */
  async close(): Promise<void> {
    const w = this.checkpointer;
    this.checkpointer = null;
    if (w) {
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      w.postMessage('stop');
      for (const j of this.jobs.values()) j.resolve(null);
      this.jobs.clear();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      await w.terminate();
    }
    if (this.conn.open) this.conn.close();
  }
}

export interface CompactResult {
  /** Rows deleted (replaced by one). */
  removed: number;
  /** Their bytes, and the bytes of the row that replaced them. */
  removedBytes: number;
  bytes: number;
}

const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
