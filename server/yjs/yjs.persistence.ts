import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { YjsDocName } from '../../shared/protocol/yjs.js';
import type { ChangeHooks } from './yjs.changes.js';
import { Compaction } from './yjs.compaction.js';
import { Conn, type Connections, HubDoc, type HubState, encodeAwarenessMessage, encodeUpdateMessage, socketOf } from './yjs.conn.js';
import type { DocKindRegistry, ParsedDocName, YjsDocKind } from './yjs.registry.js';
import type { YjsStore } from './yjs.store.js';

const LOAD_ORIGIN = Symbol('yjs-load');

/**
 * The life of a loaded document and its updates in SQLite: load (stored rows applied, then compacted
 * when there are many), commit of the pending updates at the end of the event-loop turn and only
 * then their relay to the document's other connections (acknowledged-data rule), unload of an idle
 * document (last commit, final change hooks, compaction). Owns the `Compaction` of the same hub.
 */
export class YjsPersistence {
  readonly compaction: Compaction;
  private dirty = new Set<HubDoc>();
  private flushScheduled = false;

  constructor(
    private readonly state: HubState,
    private readonly store: YjsStore,
    private readonly registry: DocKindRegistry,
    private readonly conns: Connections,
    private readonly changes: ChangeHooks,
  ) {
    this.compaction = new Compaction(state, store, () => this.flush());
  }

  /** Commits every pending update now (normally done at the end of the event-loop turn). */
  flush(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    const docs = [...this.dirty];
    this.dirty.clear();
    const rows: { docName: string; data: Uint8Array }[] = [];
    for (const d of docs) for (const p of d.pending) rows.push({ docName: d.name, data: p.data });
    let ids: number[];
    try {
      ids = this.store.append(rows);
    } catch (err) {
      // Nothing of this batch is durable: drop the in-memory state and make clients re-sync
      // (they still hold their updates and resend them on reconnect).
      this.state.log.error({ err }, 'yjs: persisting updates failed; reloading affected documents');
      for (const d of docs) this.unload(d, { persist: false, code: 1011 });
      return;
    }
    let i = 0;
    for (const d of docs) {
      const pending = d.pending;
      d.pending = [];
      d.rows += pending.length;
      i += pending.length;
      d.lastRowId = ids[i - 1];
      // Broadcast only now: whatever a client has seen is committed (acknowledged-data rule).
      const msgs = pending.map((p) => encodeUpdateMessage(p.data));
      for (const c of d.conns) {
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
      this.changes.notify(d);
      if (d.rows >= this.state.options.compactAfterUpdates) this.compaction.schedule(d);
    }
  }

  /**
   * The loaded document of a registered name, loaded now if needed; an idle one gets its unload
   * timer (re)armed. @throws Error when no registered kind accepts the name.
   */
  loadByName(name: string): HubDoc {
    const existing = this.state.docs.get(name);
    if (existing) {
      if (existing.conns.size === 0) this.scheduleUnload(existing);
      return existing;
    }
    const resolved = YjsDocName.safeParse(name).success ? this.registry.resolve(name) : null;
    if (!resolved) throw new Error(`Unknown Yjs document ${name}`);
    const d = this.load(name, resolved.kind, resolved.parsed);
    this.scheduleUnload(d);
    return d;
  }

  /** The loaded document `name` of `kind`, loaded from its stored rows if it is not in memory. */
  load(name: string, kind: YjsDocKind, parsed: ParsedDocName): HubDoc {
    const existing = this.state.docs.get(name);
    if (existing) return existing;
    const d = new HubDoc(name, kind, parsed);
    const rows = this.store.load(name);
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
      this.dirty.add(d);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
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
    if (d.rows >= 20) this.compaction.compact(d);
    return d;
  }

  /** Unloads `d` after `unloadAfterMs` unless a connection arrives meanwhile. */
  scheduleUnload(d: HubDoc): void {
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    d.unloadTimer = setTimeout(() => {
      d.unloadTimer = null;
      if (d.conns.size === 0) this.unload(d, { persist: true });
    }, this.state.options.unloadAfterMs);
    d.unloadTimer.unref();
  }

  /**
   * Closes the document's connections (`code`, default 1001) and forgets it; with `persist`, first
   * commits, runs the final change hooks and compacts.
   */
  unload(d: HubDoc, { persist, code }: { persist: boolean; code?: number }): void {
    if (this.state.docs.get(d.name) !== d) return;
    if (persist) {
      if (d.pending.length) this.flush();
      this.changes.runNow(d);
      this.compaction.compact(d);
    }
    for (const c of [...d.conns]) this.conns.close(c, code ?? CLOSE_CODES.goingAway, 'document reloaded');
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    if (d.compactTimer) clearTimeout(d.compactTimer);
    this.dirty.delete(d);
    this.state.docs.delete(d.name);
    d.awareness.destroy();
    d.ydoc.destroy();
  }
}
