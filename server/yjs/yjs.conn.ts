import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { LIMITS } from '../../shared/limits.js';
import { YJS_MESSAGE } from '../../shared/protocol/yjs.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Logger } from '../log.js';
import type { ParsedDocName, YjsDocKind } from './yjs.registry.js';

/**
 * The Yjs hub's loaded documents and their connections in memory, and the primitives every part
 * of the hub uses on them: sending a frame, closing a connection, the liveness sweep and the
 * y-websocket frames the server writes. The lowest layer of the hub (imports no other part of it).
 */

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

/** The production values of `YjsHubOptions`. */
export const YJS_HUB_DEFAULTS: YjsHubOptions = {
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

/**
 * What the parts of one hub share: its tunables (replaced as a whole by `setOptions`, so read them
 * through this object, never keep a copy), its loaded documents by name, its logger, and whether it
 * is closed.
 */
export interface HubState {
  options: YjsHubOptions;
  readonly docs: Map<string, HubDoc>;
  readonly log: Logger;
  closed: boolean;
}

/** One loaded document: its Y.Doc and awareness, its connections, its stored rows and timers. */
export class HubDoc {
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
  /** A background (worker) compaction is running; bumped by an in-place one meanwhile. */
  compacting = false;
  compactGen = 0;
  /** Commits in flight holding updates of this document, and what waits for the next commit (`afterCommit`). */
  committing = 0;
  afterCommit: (() => void)[] = [];
  /** Being unloaded: a new connection waits for `unloaded`, then loads the document again. */
  unloading = false;
  readonly unloaded: Promise<void>;
  markUnloaded!: () => void;
  constructor(
    readonly name: string,
    readonly kind: YjsDocKind,
    readonly parsed: ParsedDocName,
  ) {
    this.awareness.setLocalState(null);
    this.unloaded = new Promise((resolve) => (this.markUnloaded = resolve));
  }
}

/** One WebSocket connection to one document, with the user and access level it was admitted with. */
export class Conn {
  /** Awareness client ids this connection announced (removed when it closes). */
  readonly awarenessIds = new Set<number>();
  alive = true;
  closed = false;
  /** Refused for good: its messages are ignored until it is closed (after a commit). */
  refusing = false;
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

/**
 * Sending to and closing the connections of one hub. `onIdle` is called when a document loses its
 * last connection (the hub schedules its unload).
 */
export class Connections {
  constructor(
    private readonly state: HubState,
    private readonly onIdle: (doc: HubDoc) => void,
  ) {}

  /** Sends one frame; a connection whose send buffer is over `maxBufferedBytes` is closed with 1013. */
  send(conn: Conn, msg: Uint8Array): void {
    const ws = conn.ws;
    if (conn.closed || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.state.options.maxBufferedBytes) {
      this.close(conn, CLOSE_CODES.tryAgainLater, 'too slow');
      return;
    }
    ws.send(msg);
  }

  /** Detaches the connection from its document and closes the socket with `code`. */
  close(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    this.detach(conn);
    try {
      conn.ws.close(code, reason);
    } catch {
      conn.ws.terminate();
    }
  }

  /** Forgets a connection (its awareness states go with it); the last one out schedules the unload. */
  detach(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    const doc = conn.doc;
    doc.conns.delete(conn);
    if (conn.awarenessIds.size) awarenessProtocol.removeAwarenessStates(doc.awareness, [...conn.awarenessIds], null);
    if (doc.conns.size === 0) this.onIdle(doc);
  }

  /** Closes every connection of a user with `code`; returns how many. */
  closeUser(userId: number, code: number): number {
    let n = 0;
    for (const d of this.state.docs.values())
      for (const c of [...d.conns])
        if (c.user.id === userId) {
          this.close(c, code, 'closed by server');
          n++;
        }
    return n;
  }

  /** The liveness sweep: a connection that did not answer the last ping is terminated, the others pinged. */
  ping(): void {
    for (const d of this.state.docs.values())
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
  }
}

/** The TCP socket under a `ws` WebSocket (to cork several frames into one write), if reachable. */
export function socketOf(ws: WebSocket): { cork(): void; uncork(): void } | null {
  const sock = (ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
  return sock && typeof sock.cork === 'function' && typeof sock.uncork === 'function' ? (sock as { cork(): void; uncork(): void }) : null;
}

/** A y-websocket sync frame carrying one update. */
export function encodeUpdateMessage(update: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, YJS_MESSAGE.sync);
  syncProtocol.writeUpdate(enc, update);
  return encoding.toUint8Array(enc);
}

/** A y-websocket sync step 1 frame (the server's state vector: "send me what I lack"). */
export function encodeSyncStep1Message(ydoc: Y.Doc): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, YJS_MESSAGE.sync);
  syncProtocol.writeSyncStep1(enc, ydoc);
  return encoding.toUint8Array(enc);
}

/** A y-websocket awareness frame with the states of `clients`. */
export function encodeAwarenessMessage(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, YJS_MESSAGE.awareness);
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(enc);
}
