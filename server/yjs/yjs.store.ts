import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/client.js';

/**
 * SQLite persistence of Yjs updates (table `yjs_updates`), on prepared statements: the hub calls
 * `append` once per event-loop turn with every update received in that turn, in one transaction.
 */
export class YjsStore {
  private insertStmt: Statement<[string, Buffer]>;
  private loadStmt: Statement<[string], { id: number; data: Buffer }>;
  private deleteUpToStmt: Statement<[string, number]>;
  private appendTx: (rows: { docName: string; data: Uint8Array }[]) => number[];
  private replaceTx: (docName: string, upToId: number, state: Uint8Array) => number;

  constructor(private db: Db) {
    const c = db.$client;
    this.insertStmt = c.prepare('INSERT INTO yjs_updates (doc_name, data) VALUES (?, ?)');
    this.loadStmt = c.prepare('SELECT id, data FROM yjs_updates WHERE doc_name = ? ORDER BY id');
    this.deleteUpToStmt = c.prepare('DELETE FROM yjs_updates WHERE doc_name = ? AND id <= ?');
    this.appendTx = c.transaction((rows: { docName: string; data: Uint8Array }[]) =>
      rows.map((r) => Number(this.insertStmt.run(r.docName, toBuffer(r.data)).lastInsertRowid)),
    );
    this.replaceTx = c.transaction((docName: string, upToId: number, state: Uint8Array) => {
      this.deleteUpToStmt.run(docName, upToId);
      return Number(this.insertStmt.run(docName, toBuffer(state)).lastInsertRowid);
    });
  }

  /** Appends updates in one transaction (committed when this returns); returns their row ids. */
  append(rows: { docName: string; data: Uint8Array }[]): number[] {
    return rows.length ? this.appendTx(rows) : [];
  }

  /** Every stored update of a document, oldest first. */
  load(docName: string): { id: number; data: Buffer }[] {
    return this.loadStmt.all(docName);
  }

  /**
   * Replaces the rows up to `upToId` with one row holding `state` (the re-encoded document),
   * in one transaction. Rows appended after `upToId` stay. Returns the new row's id.
   */
  replace(docName: string, upToId: number, state: Uint8Array): number {
    return this.replaceTx(docName, upToId, state);
  }
}

const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
