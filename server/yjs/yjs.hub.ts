import type http from 'node:http';
import type { Duplex } from 'node:stream';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket, WebSocketServer } from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { LIMITS } from '../../shared/limits.js';
import { YJS_MESSAGE, YjsDocName } from '../../shared/protocol/yjs.js';
import { type AuthUser, authenticateCookie } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import type { Db } from '../db/client.js';
import { originAllowed } from '../http/security.js';
import type { Logger } from '../log.js';
import { type DeleteRanges, type Struct, deleteOnlyUpdate, groupByClient, integrable, tombstoneUpdate } from './yjs.filter.js';
import { DocKindRegistry, type ParsedDocName, type YjsAccess, type YjsDocKind, type YjsRefusal } from './yjs.registry.js';
import { YjsStore } from './yjs.store.js';

/** Tunables of one hub. Defaults suit production; tests shorten the timers with `setOptions`. */
export interface YjsHubOptions {
  /** A document with no connection is unloaded (flushed, compacted, destroyed) after this long. */
  unloadAfterMs: number;
  /** Compact a document once it has this many stored rows… */
  compactAfterUpdates: number;
  /**
   * …but at most once per this interval per document: compaction re-encodes the whole document,
   * so under a burst of strokes it would otherwise stall the event loop every few hundred updates.
   */
  compactMinIntervalMs: number;
  /** Every this often, compact every loaded document with more than one stored row. */
  compactIntervalMs: number;
  /** Every this often, re-check the session and access of every connection (revocation sweep). */
  recheckIntervalMs: number;
  /** WebSocket ping period; a connection that missed one pong is terminated. */
  pingIntervalMs: number;
  /** `onChange` handlers run this long after the last change of a document… */
  changeDebounceMs: number;
  /** …and at the latest this long after the first unreported change. */
  changeMaxWaitMs: number;
  /** A connection whose send buffer grows past this is closed with 1013 (slow consumer). */
  maxBufferedBytes: number;
  /**
   * Per-connection flood limit (token buckets of messages and bytes). A connection that exceeds it
   * is closed with 1013 (transient): the stock provider reconnects after its backoff and re-syncs,
   * so nothing is lost and the other connections are unaffected.
   */
  rate: { messagesPerSecond: number; messageBurst: number; bytesPerSecond: number; byteBurst: number };
  /** Largest a document may grow through client updates (`LIMITS.yjs.docBytes`). */
  docBytes: number;
  /**
   * A connection whose updates a kind's `validate` refused (in part) this many times is closed
   * with 4422; so is one asked to re-sync this many times (updates that could not integrate).
   */
  maxRefusedUpdates: number;
}

const DEFAULTS: YjsHubOptions = {
  unloadAfterMs: 30_000,
  compactAfterUpdates: 500,
  compactMinIntervalMs: 10_000,
  compactIntervalMs: 60_000,
  recheckIntervalMs: 60_000,
  pingIntervalMs: 30_000,
  changeDebounceMs: 1_000,
  changeMaxWaitMs: 5_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  rate: { messagesPerSecond: 200, messageBurst: 400, bytesPerSecond: 2 * 1024 * 1024, byteBurst: 8 * 1024 * 1024 },
  docBytes: LIMITS.yjs.docBytes,
  maxRefusedUpdates: 20,
};

/** Transaction origin of updates written by server code through `withDoc`. */
export const SERVER_ORIGIN = Symbol('yjs-server');
const LOAD_ORIGIN = Symbol('yjs-load');

/**
 * A handler notified (debounced) after a document changed; see `YjsHub.onChange`. `final` is true
 * when the document is about to be unloaded (or the hub closes): finish synchronously.
 */
export type YjsChangeHandler = (name: string, ydoc: Y.Doc, info: { final: boolean }) => void | Promise<void>;

interface ChangeListener {
  match: string | RegExp;
  handler: YjsChangeHandler;
  debounceMs: number;
  maxWaitMs: number;
  timers: Map<string, { timer: NodeJS.Timeout; since: number; last: number }>;
}

class HubDoc {
  readonly ydoc = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.ydoc);
  readonly conns = new Set<Conn>();
  /** Updates applied in memory, not yet committed; broadcast only after their commit. */
  pending: { data: Uint8Array; origin: unknown }[] = [];
  /** Approximate stored size: sum of stored rows (exact after compaction). */
  bytes = 0;
  /** Number of stored rows and the id of the last one. */
  rows = 0;
  lastRowId = 0;
  unloadTimer: NodeJS.Timeout | null = null;
  compactTimer: NodeJS.Timeout | null = null;
  lastCompactAt = 0;
  /** A background (worker) compaction is running; bumped by a synchronous one meanwhile. */
  compacting = false;
  compactGen = 0;
  constructor(
    readonly name: string,
    readonly kind: YjsDocKind,
    readonly parsed: ParsedDocName,
  ) {
    this.awareness.setLocalState(null);
  }
}

class Conn {
  /** Awareness client ids this connection announced (removed when it closes). */
  readonly awarenessIds = new Set<number>();
  alive = true;
  closed = false;
  /** Token buckets of the flood limit; filled lazily from the time of the last message. */
  msgTokens = Number.NaN;
  byteTokens = Number.NaN;
  lastRefill = 0;
  /** Updates of this connection that `validate` refused (in part), and re-syncs asked. */
  refused = 0;
  resyncs = 0;
  /** SHA-256 of the session token (what `session:ended` names on a logout). */
  tokenHash = '';
  constructor(
    readonly ws: WebSocket,
    public user: AuthUser,
    /** Kept in memory only, to re-check the session on revocation sweeps; never logged. */
    readonly cookie: string,
    readonly doc: HubDoc,
    public level: 'write' | 'read',
    readonly log: Logger,
  ) {}
}

/** Filter of `recheck`: every given field must match the connection. */
export interface RecheckFilter {
  docName?: string;
  userId?: number;
  meetingId?: number;
  kind?: string;
}

/**
 * The Yjs document hub: speaks the y-websocket protocol (sync + awareness) on `/yjs/<document>`,
 * authorizes every connection at the HTTP upgrade through the registered document kinds,
 * persists every update in SQLite before broadcasting it, compacts, unloads idle documents and
 * offers server-side hooks (`onChange`, `withDoc`, `getDoc`) and revocation (`recheck`).
 * One hub per app (`ctx.yjs`, created by createApp). See docs/DEVELOPING.md, "Yjs hub".
 */
export class YjsHub {
  readonly registry = new DocKindRegistry();
  private options: YjsHubOptions = { ...DEFAULTS };
  private store: YjsStore;
  private docs = new Map<string, HubDoc>();
  private dirty = new Set<HubDoc>();
  private flushScheduled = false;
  private listeners: ChangeListener[] = [];
  private wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.yjs.messageBytes, perMessageDeflate: false });
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private log: Logger;
  private db: Db;
  private config: Config;
  private unsubscribeBus: () => void;

  constructor(ctx: { db: Db; config: Config; log: Logger; bus: EventBus }) {
    this.db = ctx.db;
    this.config = ctx.config;
    this.log = ctx.log.child({ subsystem: 'yjs' });
    this.store = new YjsStore(ctx.db);
    // Domain facts that may change who sees a meeting's documents: re-check those connections.
    const onMeeting = ({ meetingId }: { meetingId: number }) => this.recheck({ meetingId });
    ctx.bus.on('meeting:changed', onMeeting);
    ctx.bus.on('agenda:changed', onMeeting);
    // A logout closes that session's connections; a deactivation or password reset, all of the user's.
    const onSessionEnded = (e: { tokenHash: string } | { userId: number }) => {
      if ('userId' in e) this.closeUser(e.userId);
      else
        for (const d of this.docs.values())
          for (const c of [...d.conns]) if (c.tokenHash === e.tokenHash) this.closeConn(c, CLOSE_CODES.unauthenticated, 'signed out');
    };
    ctx.bus.on('session:ended', onSessionEnded);
    this.unsubscribeBus = () => {
      ctx.bus.off('meeting:changed', onMeeting);
      ctx.bus.off('agenda:changed', onMeeting);
      ctx.bus.off('session:ended', onSessionEnded);
    };
    this.startTimers();
  }

  /** Changes tunables (tests shorten timers and limits). Restarts the periodic timers. */
  setOptions(partial: Partial<YjsHubOptions>): void {
    this.options = { ...this.options, ...partial };
    this.startTimers();
  }

  /** Registers a document kind (see `YjsDocKind`). @throws Error on a duplicate kind name. */
  registerKind<P extends ParsedDocName>(kind: YjsDocKind<P>): void {
    this.registry.register(kind);
  }

  // ---------------------------------------------------------------- server-side API

  /**
   * Subscribes to changes of documents whose kind is `match` (a kind name) or whose name matches
   * `match` (a RegExp). The handler runs debounced per document (`changeDebounceMs`, at most
   * `changeMaxWaitMs` after the first change), after the changes are committed, and once more
   * before a document is unloaded or the hub closes if a change is still unreported. It receives
   * the live Y.Doc: read it synchronously (project into relational tables in one transaction).
   * Errors are logged. Returns an unsubscribe function.
   */
  onChange(match: string | RegExp, handler: YjsChangeHandler, opts: { debounceMs?: number; maxWaitMs?: number } = {}): () => void {
    const l: ChangeListener = {
      match,
      handler,
      debounceMs: opts.debounceMs ?? this.options.changeDebounceMs,
      maxWaitMs: opts.maxWaitMs ?? this.options.changeMaxWaitMs,
      timers: new Map(),
    };
    this.listeners.push(l);
    return () => {
      for (const t of l.timers.values()) clearTimeout(t.timer);
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  /**
   * The live Y.Doc of a registered document, loaded from SQLite if needed. Mutating it is the same
   * as `withDoc` (persisted and broadcast), but prefer `withDoc`; do not keep the reference: an
   * idle document is unloaded after `unloadAfterMs` and a later call returns a new Y.Doc.
   * @throws Error when no registered kind accepts the name.
   */
  getDoc(name: string): Y.Doc {
    return this.loadByName(name).ydoc;
  }

  /**
   * Runs `fn` inside one Yjs transaction on the document (origin `SERVER_ORIGIN`). The resulting
   * update is persisted and broadcast exactly like a client's, in the same event-loop turn.
   * Server writes bypass access rules and the size limit: the caller is trusted.
   * @throws Error when no registered kind accepts the name; rethrows what `fn` throws.
   */
  withDoc<T>(name: string, fn: (ydoc: Y.Doc) => T): T {
    const doc = this.loadByName(name);
    let result!: T;
    doc.ydoc.transact(() => {
      result = fn(doc.ydoc);
    }, SERVER_ORIGIN);
    return result;
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
      this.log.error({ err }, 'yjs: persisting updates failed; reloading affected documents');
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
          for (let k = 0; k < msgs.length; k++) if (c !== pending[k].origin) this.send(c, msgs[k]);
        } finally {
          sock?.uncork();
        }
      }
      this.notifyChange(d);
      if (d.rows >= this.options.compactAfterUpdates) this.scheduleCompact(d);
    }
  }

  /**
   * Replaces a document's stored rows by one row: the in-memory Y.Doc (the state of all rows)
   * re-encoded with `Y.encodeStateAsUpdate` (never `Y.mergeUpdates`, which is super-linear).
   */
  compact(d: HubDoc): void {
    if (d.compactTimer) {
      clearTimeout(d.compactTimer);
      d.compactTimer = null;
    }
    if (this.docs.get(d.name) !== d) return;
    d.lastCompactAt = Date.now();
    d.compactGen++;
    if (d.pending.length) this.flush();
    if (d.rows <= 1) return;
    const state = Y.encodeStateAsUpdate(d.ydoc);
    try {
      d.lastRowId = this.store.replace(d.name, d.lastRowId, state);
      d.rows = 1;
      d.bytes = state.byteLength;
    } catch (err) {
      this.log.error({ err, doc: d.name }, 'yjs: compaction failed (rows kept)');
    }
  }

  /**
   * Compacts soon (on the next turn, or once `compactMinIntervalMs` has passed since the last
   * time) in the store's worker thread: re-encoding a large document took 20–70 ms of the event
   * loop that relays strokes (CPU profile of `npm run bench -- annotations`).
   */
  private scheduleCompact(d: HubDoc): void {
    if (d.compactTimer || d.compacting) return;
    const wait = Math.max(0, d.lastCompactAt + this.options.compactMinIntervalMs - Date.now());
    d.compactTimer = setTimeout(() => {
      d.compactTimer = null;
      this.compactInBackground(d);
    }, wait);
    d.compactTimer.unref();
  }

  /** Compaction of the committed rows up to now, done by the store's worker; falls back to `compact`. */
  private compactInBackground(d: HubDoc): void {
    if (this.docs.get(d.name) !== d || d.compacting || this.closed) return;
    if (d.pending.length) this.flush();
    if (d.rows <= 1) return;
    d.lastCompactAt = Date.now();
    d.compacting = true;
    const gen = d.compactGen;
    const upTo = d.lastRowId;
    this.store.compactInWorker(d.name, upTo).then(
      (r) => {
        d.compacting = false;
        if (!r || this.docs.get(d.name) !== d || d.compactGen !== gen) return;
        d.rows = Math.max(1, d.rows - r.removed + 1);
        d.bytes = Math.max(r.bytes, d.bytes - r.removedBytes + r.bytes);
        // Updates appended while the worker ran were not counted towards a new compaction (the flush
        // skips scheduling while one is in flight): check the threshold again now.
        if (d.rows >= this.options.compactAfterUpdates) this.scheduleCompact(d);
      },
      (err) => {
        d.compacting = false;
        this.log.warn({ err, doc: d.name }, 'yjs: background compaction failed; compacting in place');
        this.compact(d);
      },
    );
  }

  /** Compacts a loaded document by name (tests, maintenance). */
  compactDoc(name: string): void {
    const d = this.docs.get(name);
    if (d) this.compact(d);
  }

  /** Introspection for tests and health: loaded documents, their connections and stored rows. */
  stats(): { docs: number; connections: number; perDoc: Record<string, { connections: number; rows: number; bytes: number; pending: number }> } {
    const perDoc: Record<string, { connections: number; rows: number; bytes: number; pending: number }> = {};
    let connections = 0;
    for (const d of this.docs.values()) {
      perDoc[d.name] = { connections: d.conns.size, rows: d.rows, bytes: d.bytes, pending: d.pending.length };
      connections += d.conns.size;
    }
    return { docs: this.docs.size, connections, perDoc };
  }

  // ---------------------------------------------------------------- revocation

  /**
   * Re-checks session and access of the matching connections: an ended session closes with 4401,
   * access `none` closes with 4403, a changed level (write ↔ read) takes effect for the next
   * message. Call it after changing who may see a document; the hub calls it itself on
   * `meeting:changed` / `agenda:changed` (for `meetingId`) and every `recheckIntervalMs`.
   * Returns how many connections were closed.
   */
  recheck(filter: RecheckFilter = {}): number {
    let closedCount = 0;
    for (const d of this.docs.values()) {
      if (filter.docName !== undefined && d.name !== filter.docName) continue;
      if (filter.kind !== undefined && d.kind.kind !== filter.kind) continue;
      if (filter.meetingId !== undefined && d.parsed.meetingId !== filter.meetingId) continue;
      for (const c of [...d.conns]) {
        if (filter.userId !== undefined && c.user.id !== filter.userId) continue;
        const auth = authenticateCookie(this.db, c.cookie, this.config.mfaRequiredRoles);
        if (!auth || auth.user.id !== c.user.id) {
          this.closeConn(c, CLOSE_CODES.unauthenticated, 'session ended');
          closedCount++;
          continue;
        }
        c.user = auth.user;
        const level = this.registry.access(d.kind, auth.user, d.parsed, this.db);
        if (level === 'none') {
          this.closeConn(c, CLOSE_CODES.forbidden, 'access revoked');
          closedCount++;
        } else c.level = level;
      }
    }
    return closedCount;
  }

  /** Closes every connection of a user (deactivation, logout everywhere) with `code` (default 4401). */
  closeUser(userId: number, code: number = CLOSE_CODES.unauthenticated): number {
    let n = 0;
    for (const d of this.docs.values())
      for (const c of [...d.conns])
        if (c.user.id === userId) {
          this.closeConn(c, code, 'closed by server');
          n++;
        }
    return n;
  }

  // ---------------------------------------------------------------- transport

  /**
   * Handles an HTTP upgrade for `/yjs/<document>`: Origin (absent allowed: non-browser clients),
   * session cookie, document name, access — all before any Yjs message. A refusal accepts the
   * WebSocket and closes it at once with 4401/4403/4404 so the stock client sees the code.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const refuse = (code: number, reason: string) => {
      this.log.info({ code, reason }, 'yjs: connection refused');
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.close(code, reason));
    };
    const origin = req.headers.origin;
    if (origin && !originAllowed(origin, req.headers.host, this.config)) return refuse(CLOSE_CODES.forbidden, 'origin not allowed');
    const cookie = req.headers.cookie ?? '';
    const auth = authenticateCookie(this.db, cookie, this.config.mfaRequiredRoles);
    if (!auth) return refuse(CLOSE_CODES.unauthenticated, 'sign in first');
    let name: string;
    try {
      name = decodeURIComponent(new URL(req.url ?? '', 'http://x').pathname.slice('/yjs/'.length));
    } catch {
      return refuse(CLOSE_CODES.unknownDocument, 'unknown document');
    }
    const resolved = YjsDocName.safeParse(name).success ? this.registry.resolve(name) : null;
    if (!resolved) return refuse(CLOSE_CODES.unknownDocument, 'unknown document');
    const level = this.registry.access(resolved.kind, auth.user, resolved.parsed, this.db);
    if (level === 'none') return refuse(CLOSE_CODES.forbidden, 'no access');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closed) return ws.close(CLOSE_CODES.goingAway, 'shutting down');
      // Access may have been decided against a doc that got unloaded meanwhile: resolve by name.
      const doc = this.load(name, resolved.kind, resolved.parsed);
      const conn = new Conn(ws, auth.user, cookie, doc, level, this.log.child({ doc: name, userId: auth.user.id }));
      conn.tokenHash = auth.tokenHash;
      this.setupConn(conn);
    });
  }

  private setupConn(conn: Conn): void {
    const { ws, doc } = conn;
    doc.conns.add(conn);
    if (doc.unloadTimer) {
      clearTimeout(doc.unloadTimer);
      doc.unloadTimer = null;
    }
    ws.on('error', (err) => conn.log.debug({ err }, 'yjs: socket error'));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', () => this.detach(conn));
    ws.on('message', (data, isBinary) => {
      if (conn.closed) return;
      if (!isBinary) return this.closeConn(conn, CLOSE_CODES.invalidMessage, 'binary frames only');
      const buf = toUint8(data);
      if (!this.takeTokens(conn, buf.byteLength)) {
        conn.log.warn('yjs: message flood, closing connection');
        return this.closeConn(conn, CLOSE_CODES.tryAgainLater, 'rate limited');
      }
      this.onMessage(conn, buf);
    });
    conn.log.debug({ level: conn.level }, 'yjs: connected');
    // Sync step 1 from the server, then the current awareness states (as the stock server does).
    if (doc.pending.length) this.flush();
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, YJS_MESSAGE.sync);
    syncProtocol.writeSyncStep1(enc, doc.ydoc);
    this.send(conn, encoding.toUint8Array(enc));
    const states = doc.awareness.getStates();
    if (states.size > 0) this.send(conn, encodeAwarenessMessage(doc.awareness, [...states.keys()]));
  }

  /**
   * One y-websocket frame. Anything malformed (unknown type, truncated, trailing bytes, an update
   * that does not decode or apply) closes this connection with 4400; the document and the other
   * connections are untouched because updates are decoded before they are applied.
   */
  private onMessage(conn: Conn, buf: Uint8Array): void {
    const doc = conn.doc;
    try {
      const dec = decoding.createDecoder(buf);
      const type = decoding.readVarUint(dec);
      switch (type) {
        case YJS_MESSAGE.sync: {
          const sub = decoding.readVarUint(dec);
          if (sub === syncProtocol.messageYjsSyncStep1) {
            const sv = decoding.readVarUint8Array(dec);
            assertConsumed(dec, buf);
            Y.decodeStateVector(sv);
            // Never hand out state that is not committed yet.
            if (doc.pending.length) this.flush();
            const enc = encoding.createEncoder();
            encoding.writeVarUint(enc, YJS_MESSAGE.sync);
            syncProtocol.writeSyncStep2(enc, doc.ydoc, sv);
            this.send(conn, encoding.toUint8Array(enc));
          } else if (sub === syncProtocol.messageYjsSyncStep2 || sub === syncProtocol.messageYjsUpdate) {
            const update = decoding.readVarUint8Array(dec);
            assertConsumed(dec, buf);
            // Validate the encoding before touching the document: garbage throws here.
            const decoded = Y.decodeUpdate(update);
            if (conn.level !== 'write') return; // read-only: updates are dropped, silently
            if (doc.bytes + update.byteLength > this.options.docBytes) {
              conn.log.warn({ bytes: doc.bytes, update: update.byteLength }, 'yjs: document size limit reached');
              return this.closeConn(conn, CLOSE_CODES.documentTooLarge, 'document too large');
            }
            if (doc.kind.validate) {
              this.applyValidated(conn, update, decoded as { structs: Struct[]; ds: { clients: DeleteRanges } });
              return;
            }
            Y.applyUpdate(doc.ydoc, update, conn);
            // Updates whose dependencies are missing wait in memory (never persisted or broadcast
            // until they integrate); cap them so a writer cannot grow memory without bound.
            if (pendingBytes(doc.ydoc) > this.options.docBytes / 4) {
              conn.log.warn('yjs: too many unintegrated updates; dropping them');
              // Never integrated, persisted or broadcast: dropping them loses nothing anyone saw.
              doc.ydoc.store.pendingStructs = null;
              doc.ydoc.store.pendingDs = null;
              return this.closeConn(conn, CLOSE_CODES.documentTooLarge, 'document too large');
            }
          } else throw new Error(`unknown sync message ${sub}`);
          break;
        }
        case YJS_MESSAGE.awareness: {
          const update = decoding.readVarUint8Array(dec);
          assertConsumed(dec, buf);
          // Awareness (presence, cursors) is allowed for read-only connections too: it never
          // touches the document and is bounded by maxPayload.
          awarenessProtocol.applyAwarenessUpdate(doc.awareness, update, conn);
          break;
        }
        case YJS_MESSAGE.queryAwareness: {
          assertConsumed(dec, buf);
          this.send(conn, encodeAwarenessMessage(doc.awareness, [...doc.awareness.getStates().keys()]));
          break;
        }
        case YJS_MESSAGE.auth:
          // Authorization happens at the upgrade; the y-protocols auth message is server → client only.
          throw new Error('auth messages are not accepted from clients');
        default:
          throw new Error(`unknown message type ${type}`);
      }
    } catch (err) {
      conn.log.info({ err: (err as Error).message }, 'yjs: invalid message, closing connection');
      this.closeConn(conn, CLOSE_CODES.invalidMessage, 'invalid message');
    }
  }

  /**
   * A client update of a kind with `validate`: checked BEFORE it touches the document. Accepted →
   * applied as is. Refused (in part) → the refused structs are applied as GC tombstones (clock
   * range kept, content dropped) and refused deletions are left out, so nothing refused is ever in
   * the document, the store or another client's replica; the sender gets a delete for its refused
   * structs so its replica drops them too. An update that cannot integrate yet (a gap in the
   * sender's clock, a reference to something the server does not have) is dropped and the sender
   * asked for a fresh sync step 2 (sync step 1 from the server). `maxRefusedUpdates` refusals or
   * re-syncs on one connection close it with 4422.
   */
  private applyValidated(conn: Conn, update: Uint8Array, decoded: { structs: Struct[]; ds: { clients: DeleteRanges } }): void {
    const doc = conn.doc;
    const ydoc = doc.ydoc;
    if (decoded.structs.length === 0 && decoded.ds.clients.size === 0) return;
    const groups = groupByClient(decoded.structs);
    if (!integrable(ydoc.store, groups, decoded.ds.clients)) {
      if (++conn.resyncs > this.options.maxRefusedUpdates) return this.refuseConn(conn, 'too many updates that do not integrate');
      conn.log.info('yjs: update does not integrate yet; asking the client to re-sync');
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, YJS_MESSAGE.sync);
      syncProtocol.writeSyncStep1(enc, ydoc);
      this.send(conn, encoding.toUint8Array(enc));
      return;
    }
    let refusals: YjsRefusal[] | null;
    try {
      refusals = doc.kind.validate!({ name: doc.name, parsed: doc.parsed, user: conn.user, ydoc, update, structs: decoded.structs, ds: decoded.ds });
    } catch (err) {
      conn.log.warn({ err }, 'yjs: validate threw; update refused');
      refusals = [{ reason: 'validation failed', all: true }];
    }
    if (!refusals || refusals.length === 0) {
      Y.applyUpdate(ydoc, update, conn);
      return;
    }
    const refused = new Set<Struct>();
    const refusedDeletes: DeleteRanges = new Map();
    const all = refusals.some((r) => r.all);
    for (const r of refusals) {
      for (const st of r.structs ?? []) refused.add(st);
      for (const d of r.deletes ?? []) {
        let list = refusedDeletes.get(d.client);
        if (!list) refusedDeletes.set(d.client, (list = []));
        list.push({ clock: d.clock, len: d.len });
      }
    }
    if (all) {
      for (const st of decoded.structs) refused.add(st);
      for (const [client, ranges] of decoded.ds.clients) refusedDeletes.set(client, ranges);
    }
    conn.log.info({ reasons: [...new Set(refusals.map((r) => r.reason))].slice(0, 5), structs: refused.size }, 'yjs: update refused (in part)');
    Y.applyUpdate(ydoc, tombstoneUpdate(groups, decoded.ds.clients, refused, refusedDeletes), conn);
    // The sender's replica still shows what it made: delete its refused structs there.
    const mine: DeleteRanges = new Map();
    for (const st of refused) {
      if (!(st instanceof Y.Item)) continue;
      let list = mine.get(st.id.client);
      if (!list) mine.set(st.id.client, (list = []));
      list.push({ clock: st.id.clock, len: st.length });
    }
    if (mine.size) {
      if (doc.pending.length) this.flush(); // the tombstones are committed before anyone sees them
      this.send(conn, encodeUpdateMessage(deleteOnlyUpdate(mine)));
    }
    if (++conn.refused >= this.options.maxRefusedUpdates) this.refuseConn(conn, 'too many refused updates');
  }

  private refuseConn(conn: Conn, reason: string): void {
    conn.log.warn({ reason }, 'yjs: closing a connection that keeps sending refused updates');
    if (conn.doc.pending.length) this.flush();
    this.closeConn(conn, CLOSE_CODES.updateRefused, 'updates refused');
  }

  /** Token-bucket flood check of one incoming frame; false when the connection is over its rate. */
  private takeTokens(conn: Conn, bytes: number): boolean {
    const r = this.options.rate;
    const now = performance.now();
    if (Number.isNaN(conn.msgTokens)) {
      conn.msgTokens = r.messageBurst;
      conn.byteTokens = r.byteBurst;
    } else {
      const dt = (now - conn.lastRefill) / 1000;
      conn.msgTokens = Math.min(r.messageBurst, conn.msgTokens + dt * r.messagesPerSecond);
      conn.byteTokens = Math.min(r.byteBurst, conn.byteTokens + dt * r.bytesPerSecond);
    }
    conn.lastRefill = now;
    conn.msgTokens -= 1;
    conn.byteTokens -= bytes;
    return conn.msgTokens >= 0 && conn.byteTokens >= 0;
  }

  private send(conn: Conn, msg: Uint8Array): void {
    const ws = conn.ws;
    if (conn.closed || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.closeConn(conn, CLOSE_CODES.tryAgainLater, 'too slow');
      return;
    }
    ws.send(msg);
  }

  private closeConn(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    this.detach(conn);
    try {
      conn.ws.close(code, reason);
    } catch {
      conn.ws.terminate();
    }
  }

  private detach(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    const doc = conn.doc;
    doc.conns.delete(conn);
    if (conn.awarenessIds.size) awarenessProtocol.removeAwarenessStates(doc.awareness, [...conn.awarenessIds], null);
    if (doc.conns.size === 0) this.scheduleUnload(doc);
  }

  // ---------------------------------------------------------------- documents

  private loadByName(name: string): HubDoc {
    const existing = this.docs.get(name);
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

  private load(name: string, kind: YjsDocKind, parsed: ParsedDocName): HubDoc {
    const existing = this.docs.get(name);
    if (existing) return existing;
    const d = new HubDoc(name, kind, parsed);
    const rows = this.store.load(name);
    d.ydoc.transact(() => {
      for (const r of rows) {
        try {
          Y.applyUpdate(d.ydoc, r.data);
        } catch (err) {
          this.log.error({ err, doc: name, row: r.id }, 'yjs: stored update does not apply; skipped');
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
      for (const c of d.conns) this.send(c, msg);
    });
    this.docs.set(name, d);
    if (d.rows >= 20) this.compact(d);
    return d;
  }

  private scheduleUnload(d: HubDoc): void {
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    d.unloadTimer = setTimeout(() => {
      d.unloadTimer = null;
      if (d.conns.size === 0) this.unload(d, { persist: true });
    }, this.options.unloadAfterMs);
    d.unloadTimer.unref();
  }

  private unload(d: HubDoc, { persist, code }: { persist: boolean; code?: number }): void {
    if (this.docs.get(d.name) !== d) return;
    if (persist) {
      if (d.pending.length) this.flush();
      this.runChangeNow(d);
      this.compact(d);
    }
    for (const c of [...d.conns]) this.closeConn(c, code ?? CLOSE_CODES.goingAway, 'document reloaded');
    if (d.unloadTimer) clearTimeout(d.unloadTimer);
    if (d.compactTimer) clearTimeout(d.compactTimer);
    this.dirty.delete(d);
    this.docs.delete(d.name);
    d.awareness.destroy();
    d.ydoc.destroy();
  }

  // ---------------------------------------------------------------- change hooks

  private matches(l: ChangeListener, d: HubDoc): boolean {
    return typeof l.match === 'string' ? l.match === d.kind.kind : l.match.test(d.name);
  }

  private notifyChange(d: HubDoc): void {
    const now = Date.now();
    for (const l of this.listeners) {
      if (!this.matches(l, d)) continue;
      const t = l.timers.get(d.name);
      // Already armed: just note the change; the timer re-arms itself when it fires too early
      // (no clearTimeout/setTimeout per flush on a busy document).
      if (t) t.last = now;
      else this.armChange(l, d, now, now);
    }
  }

  private armChange(l: ChangeListener, d: HubDoc, since: number, last: number): void {
    const now = Date.now();
    const wait = Math.max(0, Math.min(last + l.debounceMs, since + l.maxWaitMs) - now);
    const entry = { since, last, timer: null as unknown as NodeJS.Timeout };
    entry.timer = setTimeout(() => {
      const due = Math.min(entry.last + l.debounceMs, entry.since + l.maxWaitMs);
      if (Date.now() < due) return this.armChange(l, d, entry.since, entry.last);
      l.timers.delete(d.name);
      this.callHandler(l, d, false);
    }, wait);
    l.timers.set(d.name, entry);
  }

  private runChangeNow(d: HubDoc): void {
    for (const l of this.listeners) {
      const t = l.timers.get(d.name);
      if (!t) continue;
      clearTimeout(t.timer);
      l.timers.delete(d.name);
      this.callHandler(l, d, true);
    }
  }

  private callHandler(l: ChangeListener, d: HubDoc, final: boolean): void {
    try {
      const r = l.handler(d.name, d.ydoc, { final });
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.log.error({ err, doc: d.name }, 'yjs: onChange handler failed'));
    } catch (err) {
      this.log.error({ err, doc: d.name }, 'yjs: onChange handler failed');
    }
  }

  // ---------------------------------------------------------------- lifecycle

  private startTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.closed) return;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.pingIntervalMs, () => {
      for (const d of this.docs.values())
        for (const c of [...d.conns]) {
          if (!c.alive) {
            this.detach(c);
            c.ws.terminate();
            continue;
          }
          c.alive = false;
          try {
            c.ws.ping();
          } catch {
            this.detach(c);
          }
        }
    });
    every(this.options.recheckIntervalMs, () => this.recheck());
    every(this.options.compactIntervalMs, () => {
      for (const d of [...this.docs.values()]) if (d.rows > 1) this.compactInBackground(d);
    });
  }

  /** Closes every connection (1001: clients reconnect), commits, runs pending hooks, compacts. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribeBus();
    this.flush();
    for (const d of [...this.docs.values()]) this.unload(d, { persist: true, code: CLOSE_CODES.goingAway });
    for (const l of this.listeners) for (const t of l.timers.values()) clearTimeout(t.timer);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await this.store.close();
  }
}

/** The TCP socket under a `ws` WebSocket (to cork several frames into one write), if reachable. */
function socketOf(ws: WebSocket): { cork(): void; uncork(): void } | null {
  const sock = (ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
  return sock && typeof sock.cork === 'function' && typeof sock.uncork === 'function' ? (sock as { cork(): void; uncork(): void }) : null;
}

function encodeUpdateMessage(update: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, YJS_MESSAGE.sync);
  syncProtocol.writeUpdate(enc, update);
  return encoding.toUint8Array(enc);
}

function encodeAwarenessMessage(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, YJS_MESSAGE.awareness);
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(enc);
}

/** Bytes of updates waiting for missing dependencies inside a Y.Doc. */
function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0);
}

function assertConsumed(dec: decoding.Decoder, buf: Uint8Array): void {
  if (dec.pos !== buf.byteLength) throw new Error('trailing bytes');
}

function toUint8(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export type { YjsAccess };
