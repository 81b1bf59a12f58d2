import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import type { SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import type * as schema from './schema/index.js';
import type { Dialect } from './tables.js';

/**
 * The query builder domain code uses: Drizzle's asynchronous one. Typed as SQLite's (sqlite-core, async);
 * on PostgreSQL it is node-postgres' Drizzle database over the twin tables (server/db/tables.ts), which
 * builds the same queries from the same calls. Write only what both dialects share, awaited:
 * `await q.select()…`, `await q.insert(t).values(…).returning()`, `onConflictDoUpdate`… — never `.get()`,
 * `.all()`, `.run()` or `.values()` (SQLite only), never the result of a write without `.returning()`
 * (its shape differs), no SQLite functions in `sql` (test/unit/store-seam.test.ts checks where the dialect branches).
 */
export type Q = SqliteRemoteDatabase<typeof schema>;

/**
 * The async seam between domain code and the database (issue #17): one per app, on SQLite (the embedded
 * default, server/db/store.sqlite.ts) or PostgreSQL (server/db/store.pg.ts).
 *
 * - `store.q` runs single statements: a read, or one write that needs no other. Inside `store.tx` (the
 *   same async call chain, followed by AsyncLocalStorage) it is that transaction's builder, so a helper
 *   called from a transaction reads what the transaction wrote and writes into it.
 * - `store.tx(fn)` runs `fn` in one transaction, committed when `fn` resolves, rolled back when it
 *   throws. Transactions of one app run one at a time (SQLite has one writer anyway; on PostgreSQL this
 *   keeps the check-then-write invariants the domains rely on); a `store.tx` inside another joins it.
 *   On SQLite a statement outside a transaction waits while one is open (they share the connection), so
 *   it never reads or writes half of someone else's transaction.
 */
export interface Store {
  readonly dialect: Dialect;
  /** The builder of the current transaction, or of the database outside one. */
  readonly q: Q;
  /** `label` (optional, cheap: a constant) names the caller in the record of who holds the turn ({@link TxGate.holderInfo}). */
  tx<T>(fn: (q: Q) => Promise<T>, label?: string): Promise<T>;
  /**
   * ONE statement that is atomic by itself (a data-modifying CTE), in its turn among the app's transactions like
   * `tx`, but without BEGIN and COMMIT: on PostgreSQL two round trips fewer, each of which waits its turn on a
   * busy machine (the ballot batch, issue #17). Inside a transaction it is part of it. On SQLite the same as `tx`.
   */
  atomic<T>(fn: (q: Q) => Promise<T>, label?: string): Promise<T>;
  /**
   * Several reads that must agree with each other (a meeting's live snapshot), and no write. On PostgreSQL a
   * REPEATABLE READ, READ ONLY transaction on a pool connection, outside the transaction turn: MVCC gives it a
   * consistent view without waiting for this node's writers (a `meeting:join` queued behind every write of a
   * busy node, and HAProxy took the node for dead). A write inside it fails (read-only transaction). On SQLite
   * the same as `tx` (one connection; its reads do not wait on the disk). Inside a transaction: part of it.
   */
  read<T>(fn: (q: Q) => Promise<T>): Promise<T>;
  /**
   * SQLite only, for a repository's dialect-specific branch: runs `fn` with the better-sqlite3 connection
   * when no other transaction is open (inside one: at once, as part of it). Throws on PostgreSQL.
   */
  sqlite<T>(fn: (db: Database.Database) => T): Promise<T>;
  /** Who holds this app's transaction turn now, for a stall's report (PostgreSQL; see {@link TxGate.holderInfo}). */
  txHolder?(): { label: string; heldMs: number; waiting: number } | null;
  /** Liveness: the database answers a trivial query (not waiting for an open transaction's turn); throws when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What `store.tx` leaves in the async context of its callback. */
export interface TxScope {
  owner: object;
  q: Q;
  /** What `afterCommit` queued: run once the transaction committed, dropped when it rolls back; null once it ended. */
  committed?: (() => void)[] | null;
  /** A read-only snapshot (`Store.read` on PostgreSQL): its builder is the call chain's, though it holds no turn. */
  readOnly?: true;
}

/** The transaction scope of the current async call chain, if any (shared by both stores). */
export const txScope = new AsyncLocalStorage<TxScope>();

/**
 * Runs `fn` once the transaction of this call chain commits, never if it rolls back; at once outside a transaction.
 * For what must follow only a committed change (the notifier's signal): `fn` must not throw.
 */
export function afterCommit(fn: () => void): void {
  const pending = txScope.getStore()?.committed;
  if (pending) pending.push(fn);
  else fn();
}

/** The store's side of `afterCommit`: a new scope's list, then its callbacks run (committed) or dropped. */
export function commitScope(owner: object, q: Q): TxScope {
  return { owner, q, committed: [] };
}
export function endScope(scope: TxScope, committed: boolean): void {
  const callbacks = scope.committed ?? [];
  scope.committed = null;
  if (committed) for (const fn of callbacks) fn();
}

/**
 * One transaction at a time, first come first served. `holder` is the open transaction's owner token;
 * `idle()` resolves when none is open. The SQLite store also makes single statements wait here.
 */
export class TxGate {
  private holder: object | null = null;
  private holderLabel = '';
  private holderSince = 0;
  private readonly waiting: (() => void)[] = [];

  get open(): boolean {
    return this.holder !== null;
  }

  holds(token: object | undefined): boolean {
    return token !== undefined && this.holder === token;
  }

  /** The builder of the transaction this call chain is in, if it is the one holding this gate (`store.q`, joining `store.tx`). */
  current(): Q | undefined {
    const scope = txScope.getStore();
    return scope && (scope.readOnly || this.holds(scope.owner)) ? scope.q : undefined;
  }

  /** Resolves when no transaction is open (at once when none is). */
  idle(): Promise<void> | undefined {
    if (this.holder === null) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Who holds the turn now: the label its caller gave (a constant, no stack: this runs for every transaction),
   * since when (ms, this process's monotonic clock) and how many call chains wait. For a stall's report: a
   * transaction that waits on something that itself needs the turn never ends, and PostgreSQL shows only an
   * idle transaction.
   */
  holderInfo(): { label: string; heldMs: number; waiting: number } | null {
    if (this.holder === null) return null;
    return { label: this.holderLabel || '(unlabelled)', heldMs: Math.round(performance.now() - this.holderSince), waiting: this.waiting.length };
  }

  async run<T>(token: object, fn: () => Promise<T>, label = ''): Promise<T> {
    while (this.holder !== null) await this.idle();
    this.holder = token;
    this.holderLabel = label;
    this.holderSince = performance.now();
    try {
      return await fn();
    } finally {
      this.holder = null;
      // Wake everyone waiting: single statements go, the first transaction takes the gate, the others wait again.
      for (const wake of this.waiting.splice(0)) wake();
    }
  }
}
