import * as Y from 'yjs';
import type { HubDoc, HubState } from './yjs.conn.js';
import { meetingOfDoc } from './yjs.registry.js';
import type { YjsUpdateStore } from './yjs.store.js';

/** What compaction needs of the persistence: its write queue and the commit of pending updates inside it. */
export interface CompactionHost {
  serial<T>(task: () => Promise<T>): Promise<T>;
  commitPending(): Promise<void>;
  flush(): Promise<void>;
}

/**
 * Compaction of the stored rows of loaded documents: in place (`compact`, in the persistence's write
 * queue, on unload and on demand) or in the store's worker thread (`compactInBackground`, the periodic
 * and threshold-driven path; on a store without a worker, in place).
 */
export class Compaction {
  constructor(
    private readonly state: HubState,
    private readonly store: YjsUpdateStore,
    private readonly host: CompactionHost,
  ) {}

  /**
   * Replaces a document's stored rows by one row: the in-memory Y.Doc (the state of all rows)
   * re-encoded with `Y.encodeStateAsUpdate` (never `Y.mergeUpdates`, which is super-linear).
   */
  async compact(d: HubDoc): Promise<void> {
    if (d.compactTimer) {
      clearTimeout(d.compactTimer);
      d.compactTimer = null;
    }
    if (this.state.docs.get(d.name) !== d) return;
    d.lastCompactAt = Date.now();
    d.compactGen++;
    await this.host.serial(async () => {
      if (this.state.docs.get(d.name) !== d) return;
      // In the write queue: no commit of this document runs until the replacement is done. Updates
      // applied meanwhile stay pending and are appended after it (newer rows, kept).
      await this.host.commitPending();
      if (d.rows <= 1) return;
      const state = Y.encodeStateAsUpdate(d.ydoc);
      try {
        // Every row, not only those up to d.lastRowId: a background compaction in flight may have
        // written its row after that id (its later deletes then find nothing; its result is ignored
        // because compactGen moved on).
        d.lastRowId = await this.store.replaceAll(d.name, state, meetingOfDoc(d.parsed));
        d.rows = 1;
        d.bytes = state.byteLength;
      } catch (err) {
        this.state.log.error({ err, doc: d.name }, 'yjs: compaction failed (rows kept)');
      }
    });
  }

  /**
   * Compacts soon (on the next turn, or once `compactMinIntervalMs` has passed since the last
   * time) in the store's worker thread: re-encoding a large document took 20–70 ms of the event
   * loop that relays strokes (CPU profile of `npm run bench -- annotations`).
   */
  schedule(d: HubDoc): void {
    if (d.compactTimer || d.compacting) return;
    const wait = Math.max(0, d.lastCompactAt + this.state.options.compactMinIntervalMs - Date.now());
    d.compactTimer = setTimeout(() => {
      d.compactTimer = null;
      void this.compactInBackground(d);
    }, wait);
    d.compactTimer.unref();
  }

  /** Compaction of the committed rows up to now, done by the store's worker; falls back to `compact`. */
  async compactInBackground(d: HubDoc): Promise<void> {
    if (this.state.docs.get(d.name) !== d || d.compacting || this.state.closed) return;
    if (!this.store.hasWorker) return this.compact(d);
    d.compacting = true;
    try {
      await this.host.flush();
    } catch {
      // A failed commit reloads the document; nothing to compact.
    }
    if (d.rows <= 1 || this.state.docs.get(d.name) !== d || d.unloading) {
      d.compacting = false;
      return;
    }
    d.lastCompactAt = Date.now();
    const gen = d.compactGen;
    const upTo = d.lastRowId;
    await this.store.compactInWorker(d.name, upTo).then(
      (r) => {
        d.compacting = false;
        if (!r || this.state.docs.get(d.name) !== d || d.compactGen !== gen) return;
        d.rows = Math.max(1, d.rows - r.removed + 1);
        d.bytes = Math.max(r.bytes, d.bytes - r.removedBytes + r.bytes);
        // Updates appended while the worker ran were not counted towards a new compaction (the flush
        // skips scheduling while one is in flight): check the threshold again now.
        if (d.rows >= this.state.options.compactAfterUpdates) this.schedule(d);
      },
      (err) => {
        d.compacting = false;
        this.state.log.warn({ err, doc: d.name }, 'yjs: background compaction failed; compacting in place');
        return this.compact(d);
      },
    );
  }

  /** The periodic sweep: every loaded document with more than one stored row, in the worker. */
  sweep(): void {
    for (const d of [...this.state.docs.values()]) if (d.rows > 1) void this.compactInBackground(d);
  }
}
