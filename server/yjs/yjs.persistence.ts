import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { YjsDocName } from '../../shared/protocol/yjs.js';
import type { ChangeHooks } from './yjs.changes.js';
import { Compaction } from './yjs.compaction.js';
import { Conn, type Connections, HubDoc, type HubState, encodeAwarenessMessage, encodeUpdateMessage, socketOf } from './yjs.conn.js';
import { type DocKindRegistry, type ParsedDocName, type YjsDocKind, meetingOfDoc } from './yjs.registry.js';
import type { YjsUpdateStore } from './yjs.store.js';

const LOAD_ORIGIN = Symbol('yjs-load');


/**
 * The life of a loaded document and its updates in the store: load (stored rows applied, then compacted
 * when there are many), commit of the pending updates at the end of the event-loop turn and only
 * then their relay to the document's other connections (acknowledged-data rule), unload of an idle
 * document (last commit, final change hooks, compaction). Owns the `Compaction` of the same hub.
 *
 * Every write of the hub's documents (a commit, an in-place compaction) runs in one queue (`serial`),
 * one after the other: a compaction replacing a document's rows never races a commit of its updates.
 * Whatever must only reach a client once committed (a sync step 2, the refusal of an update) is sent
 * through `afterCommit`, which runs it once the updates pending now are committed.
 */
export class YjsPersistence {
  readonly compaction: Compaction;
  private dirty = new Set<HubDoc>();
  private flushScheduled = false;
  private queue: Promise<unknown> = Promise.resolve();
  private loading = new Map<string, Promise<HubDoc>>();

  constructor(
    private readonly state: HubState,
    private readonly store: YjsUpdateStore,
    private readonly registry: DocKindRegistry,
    private readonly conns: Connections,
    private readonly changes: ChangeHooks,
  ) {
    this.compaction = new Compaction(state, store, this);
  }

  /** Runs `task` after every write queued before it (commits, compactions) and before any queued after. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Commits every pending update (normally done at the end of the event-loop turn); resolves once committed and relayed. */
  flush(): Promise<void> {
    this.flushScheduled = false;
    return this.serial(() => this.commitPending());
  }

  /**
   * Runs `fn` once `d`'s updates pending now are committed: at once when none are (and no commit is
   * in flight), else right after the commit that takes them.
   */
  afterCommit(d: HubDoc, fn: () => void): void {
    if (d.pending.length === 0 && d.committing === 0) return fn();
    d.afterCommit.push(fn);
    this.markDirty(d);
  }

  private markDirty(d: HubDoc): void {
    this.dirty.add(d);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** The commit itself; only ever called inside `serial`. */
  async commitPending(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batches = [...this.dirty].map((d) => ({ d, pending: d.pending.splice(0), waiting: d.afterCommit.splice(0) }));
    this.dirty.clear();
    const rows: { docName: string; data: Uint8Array; meetingId: number | null }[] = [];
    for (const b of batches) for (const p of b.pending) rows.push({ docName: b.d.name, data: p.data, meetingId: meetingOfDoc(b.d.parsed) });
    for (const b of batches) b.d.committing++;
    let ids: number[];
    try {
      ids = await this.store.append(rows);
    } catch (err) {
      // Nothing of this batch is durable: drop the in-memory state and make clients re-sync
      // (they still hold their updates and resend them on reconnect).
      this.state.log.error({ err }, 'yjs: persisting updates failed; reloading affected documents');
      for (const b of batches) {
        b.d.committing--;
        await this.unload(b.d, { persist: false, code: 1011 });
      }
      return;
    }
    let i = 0;
    for (const { d, pending, waiting } of batches) {
      d.committing--;
      if (pending.length) {
        d.rows += pending.length;
        i += pending.length;
        d.lastRowId = ids[i - 1];
      }
      if (this.state.docs.get(d.name) !== d) continue;
      // Relay only now: whatever a client has seen is committed (acknowledged-data rule).
      const msgs = pending.map((p) => encodeUpdateMessage(p.data));
      for (const c of d.conns) {
        if (msgs.length === 0) break;
        // All of this turn's frames for one connection in one writev: `ws` corks per frame, and
        // a syscall per frame per connection was the largest cost of fan-out (CPU profile).
        const sock = msgs.length > 1 ? socketOf(c.ws) : null;
        sock?.cork();
        try {
          for (let k = 0; k < msgs.length; k++) if (c !== pending[k].origin) this.conns.send(c, msgs[k]);
        } finally {
          sock?.uncork();
        }
      }
      for (const fn of waiting) fn();
      if (pending.length === 0) continue;
      this.changes.notify(d);
      if (d.rows >= this.state.options.compactAfterUpdates) this.compaction.schedule(d);
    }
  }

  /**
   * The loaded document of a registered name, loaded now if needed; an idle one gets its unload
   * timer (re)armed. @throws Error when no registered kind accepts the name.
   */
  async loadByName(name: string): Promise<HubDoc> {
    const existing = this.state.docs.get(name);
    if (existing && !existing.unloading) {
      if (existing.conns.size === 0) this.scheduleUnload(existing);
      return existing;
    }
    const resolved = YjsDocName.safeParse(name).success ? this.registry.resolve(name) : null;
    if (!resolved) throw new Error(`Unknown Yjs document ${name}`);
    const d = await this.load(name, resolved.kind, resolved.parsed);
    if (d.conns.size === 0) this.scheduleUnload(d);
    return d;
  }

  /**
   * The loaded document `name` of `kind`, loaded from its stored rows if it is not in memory (one
   * load at a time per name; a document being unloaded is loaded again once its unload finished).
   */
  async load(name: string, kind: YjsDocKind, parsed: ParsedDocName): Promise<HubDoc> {
    for (;;) {
      const existing = this.state.docs.get(name);
      if (!existing) break;
      if (!existing.unloading) return existing;
      await existing.unloaded;
    }
    let p = this.loading.get(name);
    if (!p) {
      p = this.read(name, kind, parsed).finally(() => this.loading.delete(name));
      this.loading.set(name, p);
    }
    return p;
  }

  private async read(name: string, kind: YjsDocKind, parsed: ParsedDocName): Promise<HubDoc> {
    const rows = await this.store.load(name);
    const d = new HubDoc(name, kind, parsed);
    d.ydoc.transact(() => {
      for (const r of rows) {
        try {
          Y.applyUpdate(d.ydoc, r.data);
        } catch (err) {
          this.state.log.error({ err, doc: name, row: r.id }, 'yjs: stored update does not apply; skipped');
        }
        d.bytes += r.data.byteLength;
      }
    }, LOAD_ORIGIN);
    d.rows = rows.length;
    d.lastRowId = rows.at(-1)?.id ?? 0;
    d.ydoc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOAD_ORIGIN) return;
      d.pending.push({ data: update, origin });
      d.bytes += update.byteLength;
      this.markDirty(d);
    });
    d.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin instanceof Conn) {
        for (const id of added) origin.awarenessIds.add(id);
        for (const id of removed) origin.awarenessIds.delete(id);
      }
      const changed = added.concat(updated, removed);
      if (!changed.length || d.conns.size === 0) return;
      const msg = encodeAwarenessMessage(d.awareness, changed);
      for (const c of d.conns) this.conns.send(c, msg);
    });
    this.state.docs.set(name, d);
    if (d.rows >= 20) void this.compaction.compact(d);
    return d;
  }

  /** Unloads `d` after `unloadAfterMs` unless a connection arrives meanwhile. */
  scheduleUnload(d: HubDoc): void {
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    d.unloadTimer = setTimeout(() => {
      d.unloadTimer = null;
      if (d.conns.size === 0) void this.unload(d, { persist: true, idle: true });
    }, this.state.options.unloadAfterMs);
    d.unloadTimer.unref();
  }

  /**
   * Closes the document's connections (`code`, default 1001) and forgets it; with `persist`, first
   * commits, runs the final change hooks and compacts. `idle`: the unload of a document nobody had
   * open, given up when a connection arrives meanwhile (it is kept, and unloaded once idle again).
   */
  async unload(d: HubDoc, { persist, code, idle = false }: { persist: boolean; code?: number; idle?: boolean }): Promise<void> {
    if (this.state.docs.get(d.name) !== d || d.unloading) return;
    if (persist) {
      await this.flush();
      if (idle && d.conns.size > 0) return;
      d.unloading = true;
      this.changes.runNow(d);
      await this.compaction.compact(d);
    } else this.changes.cancel(d);
    d.unloading = true;
    for (const c of [...d.conns]) this.conns.close(c, code ?? CLOSE_CODES.goingAway, 'document reloaded');
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    if (d.compactTimer) clearTimeout(d.compactTimer);
    this.dirty.delete(d);
    if (this.state.docs.get(d.name) === d) this.state.docs.delete(d.name);
    d.awareness.destroy();
    d.ydoc.destroy();
    d.markUnloaded();
  }
}
