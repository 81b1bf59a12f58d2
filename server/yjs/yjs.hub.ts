import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type * as Y from 'yjs';
import { CLOSE_CODES, notOwnerReason } from '../../shared/close-codes.js';
import { LIMITS } from '../../shared/limits.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Q, Store } from '../db/store.js';
import type { EventBus } from '../events.js';
import { NODE_HEADER } from '../http/node-identity.js';
import type { Logger } from '../log.js';
import { type RecheckFilter, YjsAuthorization } from './yjs.authorization.js';
import { ChangeHooks, type YjsChangeHandler } from './yjs.changes.js';
import { Conn, Connections, type HubDoc, type HubState, YJS_HUB_DEFAULTS, type YjsHubOptions } from './yjs.conn.js';
import { YjsPersistence } from './yjs.persistence.js';
import { YjsProtocol } from './yjs.protocol.js';
import { DocKindRegistry, type ParsedDocName, type YjsAccess, type YjsDocKind, meetingOfDoc } from './yjs.registry.js';
import { PgYjsStore, type YjsUpdateStore, openYjsStore } from './yjs.store.pg.js';

export type { RecheckFilter, YjsAccess, YjsChangeHandler, YjsHubOptions };

/** What the hub needs of the meeting ownership of a cluster node (server/cluster's `MeetingOwnership`, #18). */
export interface YjsOwnership {
  /** Resolves when this node owns the meeting (taking a free lease); rejects when another node does. */
  claim(meetingId: number): Promise<unknown>;
  /** Inside a write's transaction: rejects when this node's lease of the meeting is gone. */
  fence(q: Q, meetingId: number): Promise<void>;
  /** Called when this node stops owning a meeting. */
  onLost(fn: (meetingId: number) => void): void;
  /** Called, and awaited, when the node is stopping, for each meeting it owns while the lease still holds. */
  onReleasing?(fn: (meetingId: number) => Promise<void>): void;
}

/** Transaction origin of updates written by server code through `withDoc`. */
export const SERVER_ORIGIN = Symbol('yjs-server');

/**
 * The Yjs document hub: speaks the y-websocket protocol (sync + awareness) on `/yjs/<document>`,
 * authorizes every connection at the HTTP upgrade through the registered document kinds,
 * persists every update (SQLite or PostgreSQL: yjs.store*.ts) before broadcasting it, compacts, unloads idle documents and
 * offers server-side hooks (`onChange`, `withDoc`, `getDoc`) and revocation (`recheck`).
 * One hub per app (`ctx.yjs`, created by createApp). See docs/DEVELOPING.md, "Yjs hub".
 *
 * This class wires the parts and keeps the timers; the work is theirs: yjs.conn.ts (documents and
 * connections in memory, sending, closing), yjs.authorization.ts (who may open and write what, at
 * the upgrade and on re-checks), yjs.protocol.ts (the y-websocket messages), yjs.persistence.ts
 * (load, commit-then-relay, unload), yjs.compaction.ts, yjs.changes.ts (the `onChange` hooks).
 */
export class YjsHub {
  readonly registry = new DocKindRegistry();
  private state: HubState;
  private store: YjsUpdateStore;
  private conns: Connections;
  private changes: ChangeHooks;
  private persistence: YjsPersistence;
  private auth: YjsAuthorization;
  private protocol: YjsProtocol;
  private wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.yjs.messageBytes, perMessageDeflate: false });
  private timers: NodeJS.Timeout[] = [];
  private unsubscribeBus: () => void;
  private ownership: YjsOwnership | null = null;

  /**
   * `ctx.db` (SQLite only) is the app's database: the SQLite Yjs store opens its own connection to
   * its file (yjs.store.ts). On PostgreSQL the hub needs only the store.
   */
  constructor(ctx: { db?: Db; store: Store; config: Config; log: Logger; bus: EventBus }) {
    this.state = { options: { ...YJS_HUB_DEFAULTS }, docs: new Map(), log: ctx.log.child({ subsystem: 'yjs' }), closed: false };
    this.store = openYjsStore(ctx.store, ctx.db);
    this.conns = new Connections(this.state, (d) => this.persistence.scheduleUnload(d));
    this.changes = new ChangeHooks(this.state);
    this.persistence = new YjsPersistence(this.state, this.store, this.registry, this.conns, this.changes);
    this.auth = new YjsAuthorization(this.state, this.conns, this.registry, ctx.store, ctx.config);
    this.protocol = new YjsProtocol(this.state, this.conns, this.persistence);
    // Domain facts that may change who sees a meeting's documents: re-check those connections.
    const onMeeting = ({ meetingId }: { meetingId: number }) => this.recheckInBackground({ meetingId });
    ctx.bus.on('meeting:changed', onMeeting);
    ctx.bus.on('agenda:changed', onMeeting);
    const onSessionEnded = (e: { tokenHash: string } | { userId: number }) => this.auth.sessionEnded(e);
    ctx.bus.on('session:ended', onSessionEnded);
    this.unsubscribeBus = () => {
      ctx.bus.off('meeting:changed', onMeeting);
      ctx.bus.off('agenda:changed', onMeeting);
      ctx.bus.off('session:ended', onSessionEnded);
    };
    this.startTimers();
    // Cluster mode: the 101 names the node, as every other answer of it does (server/http/node-identity.ts).
    const nodeId = ctx.config.cluster.nodeId;
    if (nodeId) this.wss.on('headers', (headers: string[]) => headers.push(`${NODE_HEADER}: ${nodeId}`));
  }

  /**
   * Several server nodes (#18): a meeting's documents are served and written only by the meeting's owner
   * node. A connection to one is admitted after `claim` (a free lease is taken; another node's refuses it
   * with 1013, so the provider retries — through HAProxy, on the owner); every commit and compaction of its
   * rows is fenced by the lease in its transaction; when the node loses the meeting its documents are
   * dropped without a last write (their connections closed with 1001: the providers reconnect and resend
   * what the new owner lacks). Documents of no meeting (private annotation layers) are not gated.
   */
  useOwnership(ownership: YjsOwnership): void {
    this.ownership = ownership;
    if (this.store instanceof PgYjsStore) this.store.fence = (q, meetingId) => ownership.fence(q, meetingId);
    // A node stopping hands its meetings over as one node stops: the documents committed, their change hooks
    // run (e.g. the annotation projection) and compacted under the lease, then closed (1001) — the lease is
    // released after. Dropped instead, the last second's hooks would never run: the clients resend nothing.
    ownership.onReleasing?.(async (meetingId) => {
      for (const d of [...this.state.docs.values()]) {
        if (meetingOfDoc(d.parsed) === meetingId) await this.persistence.unload(d, { persist: true, code: CLOSE_CODES.goingAway });
      }
    });
    ownership.onLost((meetingId) => {
      for (const d of [...this.state.docs.values()]) {
        if (meetingOfDoc(d.parsed) !== meetingId) continue;
        this.persistence.unload(d, { persist: false, code: CLOSE_CODES.goingAway }).catch((err: unknown) => this.state.log.error({ err, doc: d.name }, 'yjs: dropping a lost meeting’s document failed'));
      }
    });
  }

  /** Changes tunables (tests shorten timers and limits). Restarts the periodic timers. */
  setOptions(partial: Partial<YjsHubOptions>): void {
    this.state.options = { ...this.state.options, ...partial };
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
    return this.changes.add(match, handler, opts);
  }

  /**
   * The live Y.Doc of a registered document, loaded from SQLite if needed. Mutating it is the same
   * as `withDoc` (persisted and broadcast), but prefer `withDoc`; do not keep the reference: an
   * idle document is unloaded after `unloadAfterMs` and a later call returns a new Y.Doc.
   * @throws Error when no registered kind accepts the name.
   */
  async getDoc(name: string): Promise<Y.Doc> {
    return (await this.persistence.loadByName(name)).ydoc;
  }

  /**
   * Runs `fn` inside one Yjs transaction on the document (origin `SERVER_ORIGIN`), once it is loaded.
   * The resulting update is persisted and broadcast exactly like a client's, at the end of the turn.
   * Server writes bypass access rules and the size limit: the caller is trusted.
   * @throws Error when no registered kind accepts the name; rethrows what `fn` throws.
   */
  async withDoc<T>(name: string, fn: (ydoc: Y.Doc) => T): Promise<T> {
    const doc = await this.persistence.loadByName(name);
    let result!: T;
    doc.ydoc.transact(() => {
      result = fn(doc.ydoc);
    }, SERVER_ORIGIN);
    return result;
  }

  /** Commits every pending update now (normally done at the end of the event-loop turn). */
  flush(): Promise<void> {
    return this.persistence.flush();
  }

  /** Compacts a loaded document by name (tests, maintenance). */
  async compactDoc(name: string): Promise<void> {
    const d = this.state.docs.get(name);
    if (d) await this.persistence.compaction.compact(d);
  }

  /** Introspection for tests and health: loaded documents, their connections and stored rows. */
  stats(): { docs: number; connections: number; perDoc: Record<string, { connections: number; rows: number; bytes: number; pending: number }> } {
    const perDoc: Record<string, { connections: number; rows: number; bytes: number; pending: number }> = {};
    let connections = 0;
    for (const d of this.state.docs.values()) {
      perDoc[d.name] = { connections: d.conns.size, rows: d.rows, bytes: d.bytes, pending: d.pending.length };
      connections += d.conns.size;
    }
    return { docs: this.state.docs.size, connections, perDoc };
  }

  // ---------------------------------------------------------------- revocation

  /**
   * Re-checks session and access of the matching connections: an ended session closes with 4401,
   * access `none` closes with 4403, a changed level (write ↔ read) takes effect for the next
   * message. Call it after changing who may see a document; the hub calls it itself on
   * `meeting:changed` / `agenda:changed` (for `meetingId`) and every `recheckIntervalMs`.
   * Returns how many connections were closed.
   */
  recheck(filter: RecheckFilter = {}): Promise<number> {
    return this.auth.recheck(filter);
  }

  /** `recheck` from a timer or an event: its failure is logged, never thrown into the caller. */
  private recheckInBackground(filter: RecheckFilter = {}): void {
    this.auth.recheck(filter).catch((err: unknown) => this.state.log.error({ err }, 'yjs: access re-check failed'));
  }

  /** Closes every connection of a user (deactivation, logout everywhere) with `code` (default 4401). */
  closeUser(userId: number, code: number = CLOSE_CODES.unauthenticated): number {
    return this.conns.closeUser(userId, code);
  }

  // ---------------------------------------------------------------- transport

  /**
   * Handles an HTTP upgrade for `/yjs/<document>`: Origin (absent allowed: non-browser clients),
   * session cookie, document name, access — all before any Yjs message. A refusal accepts the
   * WebSocket and closes it at once with 4401/4403/4404 so the stock client sees the code.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.state.closed) {
      socket.destroy();
      return;
    }
    // Until `ws` takes the socket, an error on it (the client went away while we decide) must not go unheard.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    this.upgrade(req, socket, head, onError).catch((err: unknown) => {
      this.state.log.error({ err }, 'yjs: upgrade failed');
      socket.destroy();
    });
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, onError: () => void): Promise<void> {
    const accept = (cb: (ws: import('ws').WebSocket) => void) => {
      socket.off('error', onError);
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, cb);
    };
    const refuse = (code: number, reason: string) => {
      this.state.log.info({ code, reason }, 'yjs: connection refused');
      accept((ws) => ws.close(code, reason));
    };
    const admission = await this.auth.admit(req);
    if (!admission.ok) return refuse(admission.code, admission.reason);
    const meetingId = meetingOfDoc(admission.parsed);
    if (this.ownership && meetingId !== null) {
      try {
        await this.ownership.claim(meetingId);
      } catch (err) {
        this.state.log.info({ err, doc: admission.name }, 'yjs: not the meeting’s owner');
        // Naming the owner lets the client ask HAProxy for it (the hash may point here while another node holds the lease).
        const owner = (err as { details?: { nodeId?: unknown } }).details?.nodeId;
        return refuse(CLOSE_CODES.tryAgainLater, notOwnerReason(typeof owner === 'string' ? owner : null));
      }
    }
    // The kind's step for an admitted connection (never part of deciding access: see `YjsDocKind.open`).
    try {
      await admission.kind.open?.(admission.name, admission.parsed);
    } catch (err) {
      this.state.log.warn({ err, doc: admission.name }, 'yjs: opening the document failed');
      return refuse(CLOSE_CODES.forbidden, 'no access');
    }
    const { name, user } = admission;
    // Loaded before the WebSocket exists, so no message can arrive before the protocol listens.
    const doc: HubDoc = await this.persistence.load(name, admission.kind, admission.parsed);
    accept((ws) => {
      if (this.state.closed) return ws.close(CLOSE_CODES.goingAway, 'shutting down');
      // Unloaded while the handshake finished: the client reconnects and gets the reloaded document.
      if (doc.unloading || this.state.docs.get(name) !== doc) return ws.close(CLOSE_CODES.goingAway, 'document reloaded');
      const conn = new Conn(ws, user, admission.cookie, doc, admission.level, this.state.log.child({ doc: name, userId: user.id }));
      conn.tokenHash = admission.tokenHash;
      this.protocol.setup(conn);
    });
  }

  // ---------------------------------------------------------------- lifecycle

  private startTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.state.closed) return;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.state.options.pingIntervalMs, () => this.conns.ping());
    every(this.state.options.recheckIntervalMs, () => this.recheckInBackground());
    every(this.state.options.compactIntervalMs, () => this.persistence.compaction.sweep());
  }

  /** Closes every connection (1001: clients reconnect), commits, runs pending hooks, compacts. */
  async close(): Promise<void> {
    if (this.state.closed) return;
    this.state.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribeBus();
    await this.persistence.flush();
    for (const d of [...this.state.docs.values()]) await this.persistence.unload(d, { persist: true, code: CLOSE_CODES.goingAway });
    this.changes.clear();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await this.store.close();
  }
}
