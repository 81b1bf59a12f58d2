/**
 * Annotation layers of one document in the browser: the caller's private layer and the meeting's
 * shared layer, each a Y.Doc synced with the Yjs hub (stock y-websocket provider) and kept on the
 * device with y-indexeddb, so a tablet without network keeps annotating and merges on reconnect.
 *
 * Local writes use the `LOCAL` origin; Y.UndoManager tracks only those, so undo and redo touch the
 * user's own actions, never a remote change. Offline copies are per user (`ec-annotations:<userId>:…`)
 * and are deleted on logout (`clearOfflineAnnotations`).
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import { MEETING_REVOKED } from './socket.js';
import { followOwnerHints, routingParams } from './yjs.js';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { type AnnotationItem, type Author, itemsMapName, layerDocName } from '../../shared/protocol/annotations.js';

const LOCAL = 'ec-local';
/** Origin of automatic local corrections: synced, but not on the undo stack. */
const AUTO = 'ec-auto';
const DB_PREFIX = 'ec-annotations:';

export type LayerState = 'connecting' | 'online' | 'offline' | 'refused';

interface Layer {
  doc: Y.Doc;
  provider: WebsocketProvider;
  idb: IndexeddbPersistence;
  state: LayerState;
}

/** A random item id (url-safe, 16 chars). */
export function newItemId(): string {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The two layers of one document for the signed-in user, on one version at a time.
 * Emits `change` (items or connection state changed).
 */
export class DocumentAnnotations extends EventTarget {
  readonly own: Layer;
  readonly shared: Layer;
  private undo: Y.UndoManager | null = null;
  private versionId = 0;

  constructor(
    readonly documentId: number,
    readonly meetingId: number,
    readonly me: Author,
    wsBase = `${location.origin.replace(/^http/, 'ws')}/yjs`,
  ) {
    super();
    this.own = this.open(layerDocName({ documentId, layer: 'private', userId: me.userId }), wsBase);
    this.shared = this.open(layerDocName({ documentId, layer: 'shared', meetingId }), wsBase);
    rememberDb(me.userId);
    // The browser knows before the socket does (a half-open connection can linger for a long
    // time): go offline at once and keep working on the local copy; reconnect when it is back.
    window.addEventListener('offline', this.#onOffline);
    window.addEventListener('online', this.#onOnline);
    window.addEventListener(MEETING_REVOKED, this.#onRevoked);
  }

  /** Access to the meeting revoked: stop syncing both layers at once (the view leaves too). */
  #onRevoked = (e: Event) => {
    if ((e as CustomEvent<{ meetingId: number }>).detail.meetingId !== this.meetingId) return;
    for (const l of [this.own, this.shared]) {
      l.provider.disconnect();
      l.state = 'refused';
    }
    this.changed();
  };

  #onOffline = () => {
    for (const l of [this.own, this.shared]) {
      if (l.state === 'refused') continue;
      l.provider.disconnect();
      l.state = 'offline';
    }
    this.changed();
  };
  #onOnline = () => {
    for (const l of [this.own, this.shared]) if (l.state !== 'refused') l.provider.connect();
  };

  private open(name: string, wsBase: string): Layer {
    const doc = new Y.Doc();
    const idb = new IndexeddbPersistence(`${DB_PREFIX}${this.me.userId}:${name}`, doc);
    // Both layers (the private one too) are the meeting's documents: routed to its node like the rest of it.
    const provider = new WebsocketProvider(wsBase, name, doc, { maxBackoffTime: 5000, params: routingParams(this.meetingId) });
    followOwnerHints(provider);
    const layer: Layer = { doc, provider, idb, state: 'connecting' };
    provider.on('status', ({ status }: { status: string }) => {
      if (layer.state === 'refused') return;
      layer.state = status === 'connected' ? 'online' : status === 'connecting' ? 'connecting' : 'offline';
      this.changed();
    });
    // 44xx: not allowed (or the session ended): the provider stops; the offline copy stays readable.
    provider.on('connection-close', (ev: CloseEvent | null) => {
      if (ev && ev.code >= 4400 && ev.code < 4500) {
        layer.state = 'refused';
        this.changed();
      } else if (layer.state === 'online') {
        layer.state = 'offline';
        this.changed();
      }
    });
    doc.on('update', () => this.changed());
    return layer;
  }

  private pendingChange = false;
  private changed(): void {
    if (this.pendingChange) return;
    this.pendingChange = true;
    queueMicrotask(() => {
      this.pendingChange = false;
      this.dispatchEvent(new Event('change'));
    });
  }

  /** Selects the document version the user is looking at (undo history restarts). */
  setVersion(versionId: number): void {
    if (versionId === this.versionId) return;
    this.versionId = versionId;
    this.undo?.destroy();
    this.undo = new Y.UndoManager([this.ownMap(), this.sharedMap()], { trackedOrigins: new Set([LOCAL]), captureTimeout: 0 });
    this.undo.on('stack-item-added', () => this.changed());
    this.undo.on('stack-item-popped', () => this.changed());
    this.changed();
  }

  private ownMap() {
    return this.own.doc.getMap<AnnotationItem>(itemsMapName(this.versionId));
  }
  private sharedMap() {
    return this.shared.doc.getMap<AnnotationItem>(itemsMapName(this.versionId));
  }

  /** My items on a page of the current version. */
  ownItems(page?: number): AnnotationItem[] {
    return [...this.ownMap().values()].filter((i) => page === undefined || i.page === page);
  }

  /** Shared items (everyone's, with author) on a page of the current version. */
  sharedItems(page?: number): AnnotationItem[] {
    return [...this.sharedMap().values()].filter((i) => page === undefined || i.page === page);
  }

  /** Ids of my items that are currently shared. */
  sharedSourceIds(): Set<string> {
    const out = new Set<string>();
    for (const i of this.sharedMap().values()) if (i.author?.userId === this.me.userId && i.sourceId) out.add(i.sourceId);
    return out;
  }

  /**
   * Adds or replaces one of my items; a shared copy follows the change. Undoable unless
   * `undoable: false` (automatic corrections, e.g. redrawing a carried highlight).
   */
  put(item: AnnotationItem, { undoable = true } = {}): void {
    const shared = this.sharedSourceIds().has(item.id);
    this.own.doc.transact(() => this.ownMap().set(item.id, item), undoable ? LOCAL : AUTO);
    if (shared) this.shareItems([item.id], undoable);
  }

  /** Removes one of my items, and its shared copy (undoable). */
  remove(id: string): void {
    this.own.doc.transact(() => this.ownMap().delete(id), LOCAL);
    this.unshare([id]);
  }

  /** My items drawn straight onto the shared layer (presenting), on a page of the current version. */
  directSharedItems(page?: number): AnnotationItem[] {
    return this.sharedItems(page).filter((i) => i.author?.userId === this.me.userId && !i.sourceId);
  }

  /** Draws straight onto the shared layer (everyone sees it live), as me (undoable). */
  putShared(item: AnnotationItem): void {
    this.shared.doc.transact(() => this.sharedMap().set(item.id, { ...item, author: this.me }), LOCAL);
  }

  /** Removes one of my items from the shared layer (undoable). */
  removeShared(id: string): void {
    this.shared.doc.transact(() => this.sharedMap().delete(id), LOCAL);
  }

  /** Shares my items with the meeting: copies carrying my name and colour. */
  shareItems(ids: string[], undoable = true): void {
    const own = this.ownMap();
    this.shared.doc.transact(() => {
      const map = this.sharedMap();
      for (const id of ids) {
        const item = own.get(id);
        if (!item) continue;
        const copyId = `s${item.id}`.slice(0, 64);
        map.set(copyId, { ...item, id: copyId, sourceId: item.id, author: this.me });
      }
    }, undoable ? LOCAL : AUTO);
  }

  /** Shares my whole layer on the current version. */
  shareAll(): void {
    this.shareItems([...this.ownMap().keys()]);
  }

  /** Withdraws shared copies of my items. */
  unshare(ids: string[]): void {
    const want = new Set(ids);
    this.shared.doc.transact(() => {
      const map = this.sharedMap();
      for (const [k, v] of map) if (v.author?.userId === this.me.userId && v.sourceId && want.has(v.sourceId)) map.delete(k);
    }, LOCAL);
  }

  get canUndo(): boolean {
    return (this.undo?.undoStack.length ?? 0) > 0;
  }
  get canRedo(): boolean {
    return (this.undo?.redoStack.length ?? 0) > 0;
  }
  undoLast(): void {
    this.undo?.undo();
  }
  redoLast(): void {
    this.undo?.redo();
  }

  /** The worse state of the two layers (for the status line). */
  get state(): LayerState {
    const order: LayerState[] = ['refused', 'offline', 'connecting', 'online'];
    return order.find((s) => this.own.state === s || this.shared.state === s) ?? 'online';
  }

  destroy(): void {
    window.removeEventListener('offline', this.#onOffline);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener(MEETING_REVOKED, this.#onRevoked);
    this.undo?.destroy();
    for (const l of [this.own, this.shared]) {
      l.provider.destroy();
      void l.idb.destroy();
      l.doc.destroy();
    }
  }
}

const KNOWN_USERS_KEY = 'ec-annotations-users';

function rememberDb(userId: number): void {
  const known = new Set<number>(JSON.parse(localStorage.getItem(KNOWN_USERS_KEY) ?? '[]'));
  known.add(userId);
  localStorage.setItem(KNOWN_USERS_KEY, JSON.stringify([...known]));
}

/**
 * Deletes every offline annotation copy on this device (all users', or all but `keepUserId`).
 * Called on logout so a shared tablet keeps nothing of the previous user.
 */
export async function clearOfflineAnnotations(keepUserId?: number): Promise<void> {
  const dbs = (await indexedDB.databases?.()) ?? [];
  await Promise.all(
    dbs
      .map((d) => d.name ?? '')
      .filter((n) => n.startsWith(DB_PREFIX) && (keepUserId === undefined || !n.startsWith(`${DB_PREFIX}${keepUserId}:`)))
      .map(
        (n) =>
          new Promise<void>((resolve) => {
            const r = indexedDB.deleteDatabase(n);
            r.onsuccess = r.onerror = r.onblocked = () => resolve();
          }),
      ),
  );
  if (keepUserId === undefined) localStorage.removeItem(KNOWN_USERS_KEY);
}

/**
 * Deletes this device's offline annotation copies of one meeting: its shared layers, and the private
 * layers of the given documents (the meeting's documents as the offline record knew them). Used when the
 * server revokes the user's access to the meeting.
 */
export async function clearMeetingAnnotations(meetingId: number, documentIds: number[]): Promise<void> {
  const docs = new Set(documentIds.map(String));
  const dbs = (await indexedDB.databases?.()) ?? [];
  const ofMeeting = (n: string) => {
    const m = /:annotation:(\d+):(private|shared):(\d+)$/.exec(n);
    return !!m && ((m[2] === 'shared' && Number(m[3]) === meetingId) || docs.has(m[1]));
  };
  await Promise.all(
    dbs
      .map((d) => d.name ?? '')
      .filter((n) => n.startsWith(DB_PREFIX) && ofMeeting(n))
      .map(
        (n) =>
          new Promise<void>((resolve) => {
            const r = indexedDB.deleteDatabase(n);
            r.onsuccess = r.onerror = r.onblocked = () => resolve();
          }),
      ),
  );
}

/**
 * Clears offline annotations when the user signs out: on the app's `ec-logout` event, or when the
 * shell navigates to the bare login page (what its logout does). Installed once.
 */
export function installLogoutCleanup(): void {
  const w = window as unknown as { __ecAnnotationCleanup?: boolean };
  if (w.__ecAnnotationCleanup) return;
  w.__ecAnnotationCleanup = true;
  window.addEventListener('ec-logout', () => void clearOfflineAnnotations());
  window.addEventListener('ec-navigate', () => {
    if (location.pathname === '/login' && !location.search) void clearOfflineAnnotations();
  });
}
