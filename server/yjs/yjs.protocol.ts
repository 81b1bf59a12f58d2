import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { YJS_MESSAGE } from '../../shared/protocol/yjs.js';
import { type Conn, type Connections, type HubState, encodeAwarenessMessage, encodeSyncStep1Message, encodeUpdateMessage } from './yjs.conn.js';
import { type DeleteRanges, type Struct, deleteOnlyUpdate, groupByClient, integrable, tombstoneUpdate } from './yjs.filter.js';
import type { YjsRefusal } from './yjs.registry.js';
import type { YjsPersistence } from './yjs.persistence.js';

/**
 * The y-websocket protocol on one admitted connection: sync step 1/2 and updates (read-only
 * connections' updates dropped, the size limit, a kind's `validate` before anything is applied),
 * awareness, the per-connection flood limit. Malformed frames close the connection with 4400.
 */
export class YjsProtocol {
  constructor(
    private readonly state: HubState,
    private readonly conns: Connections,
    private readonly persistence: YjsPersistence,
  ) {}

  /**
   * Starts the protocol on an admitted connection (its document loaded): cancels the document's
   * unload, wires the socket's events, sends sync step 1 and the current awareness states.
   */
  setup(conn: Conn): void {
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
    ws.on('close', () => this.conns.detach(conn));
    ws.on('message', (data, isBinary) => {
      if (conn.closed || conn.refusing) return;
      if (!isBinary) return this.conns.close(conn, CLOSE_CODES.invalidMessage, 'binary frames only');
      const buf = toUint8(data);
      if (!this.takeTokens(conn, buf.byteLength)) {
        conn.log.warn('yjs: message flood, closing connection');
        return this.conns.close(conn, CLOSE_CODES.tryAgainLater, 'rate limited');
      }
      this.onMessage(conn, buf);
    });
    conn.log.debug({ level: conn.level }, 'yjs: connected');
    // Sync step 1 from the server, then the current awareness states (as the stock server does).
    this.persistence.afterCommit(doc, () => {
      this.conns.send(conn, encodeSyncStep1Message(doc.ydoc));
      const states = doc.awareness.getStates();
      if (states.size > 0) this.conns.send(conn, encodeAwarenessMessage(doc.awareness, [...states.keys()]));
    });
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
            // Never hand out state that is not committed yet: encoded now, sent once what it holds is committed.
            const enc = encoding.createEncoder();
            encoding.writeVarUint(enc, YJS_MESSAGE.sync);
            syncProtocol.writeSyncStep2(enc, doc.ydoc, sv);
            const reply = encoding.toUint8Array(enc);
            this.persistence.afterCommit(doc, () => this.conns.send(conn, reply));
          } else if (sub === syncProtocol.messageYjsSyncStep2 || sub === syncProtocol.messageYjsUpdate) {
            const update = decoding.readVarUint8Array(dec);
            assertConsumed(dec, buf);
            // Validate the encoding before touching the document: garbage throws here.
            const decoded = Y.decodeUpdate(update);
            if (conn.level !== 'write') return; // read-only: updates are dropped, silently
            if (doc.bytes + update.byteLength > this.state.options.docBytes) {
              conn.log.warn({ bytes: doc.bytes, update: update.byteLength }, 'yjs: document size limit reached');
              return this.conns.close(conn, CLOSE_CODES.documentTooLarge, 'document too large');
            }
            if (doc.kind.validate) {
              this.applyValidated(conn, update, decoded as { structs: Struct[]; ds: { clients: DeleteRanges } });
              return;
            }
            Y.applyUpdate(doc.ydoc, update, conn);
            // Updates whose dependencies are missing wait in memory (never persisted or broadcast
            // until they integrate); cap them so a writer cannot grow memory without bound.
            if (pendingBytes(doc.ydoc) > this.state.options.docBytes / 4) {
              conn.log.warn('yjs: too many unintegrated updates; dropping them');
              // Never integrated, persisted or broadcast: dropping them loses nothing anyone saw.
              doc.ydoc.store.pendingStructs = null;
              doc.ydoc.store.pendingDs = null;
              return this.conns.close(conn, CLOSE_CODES.documentTooLarge, 'document too large');
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
          this.conns.send(conn, encodeAwarenessMessage(doc.awareness, [...doc.awareness.getStates().keys()]));
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
      this.conns.close(conn, CLOSE_CODES.invalidMessage, 'invalid message');
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
      if (++conn.resyncs > this.state.options.maxRefusedUpdates) return this.refuseConn(conn, 'too many updates that do not integrate');
      conn.log.info('yjs: update does not integrate yet; asking the client to re-sync');
      this.conns.send(conn, encodeSyncStep1Message(ydoc));
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
      // The tombstones are committed before anyone sees them.
      const msg = encodeUpdateMessage(deleteOnlyUpdate(mine));
      this.persistence.afterCommit(doc, () => this.conns.send(conn, msg));
    }
    if (++conn.refused >= this.state.options.maxRefusedUpdates) this.refuseConn(conn, 'too many refused updates');
  }

  private refuseConn(conn: Conn, reason: string): void {
    conn.log.warn({ reason }, 'yjs: closing a connection that keeps sending refused updates');
    // Nothing more of it is read; it is closed once what it was told (its refusals) is committed.
    conn.refusing = true;
    this.persistence.afterCommit(conn.doc, () => this.conns.close(conn, CLOSE_CODES.updateRefused, 'updates refused'));
  }

  /** Token-bucket flood check of one incoming frame; false when the connection is over its rate. */
  private takeTokens(conn: Conn, bytes: number): boolean {
    const r = this.state.options.rate;
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
