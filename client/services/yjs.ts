/**
 * Collaborative documents in the browser: one Y.Doc synced with the server's Yjs hub at
 * `/yjs/<name>` through the stock y-websocket `WebsocketProvider`, with E-Cabinet's close codes
 * (shared/close-codes.ts) handled in one place:
 *   4401 → the session is gone: `onUnauthenticated()` (by default asks the API, whose 401 handler
 *          sends the app back to the login screen); no reconnect.
 *   4403 → no access (or revoked): status `forbidden`, no reconnect loop.
 *   other 44xx / 1009 → status `failed`, no reconnect.
 *   anything else → `offline`, the provider reconnects with backoff.
 * Listen to `change` for status/sync changes. The session cookie rides on the WebSocket upgrade
 * (same origin), so nothing else is needed to authenticate.
 */
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { CLOSE_CODES, isTerminalClose, ownerOfRefusal } from '../../shared/close-codes.js';
import { OWNER_HINT_PARAM, ROUTING_PARAM } from '../../shared/protocol/realtime.js';
import type { Api } from './api.js';
import { connectivity } from './connectivity.js';
import { navigate } from './router.js';
import { MEETING_REVOKED } from './socket.js';

export type YjsStatus = 'connecting' | 'online' | 'offline' | 'signed-out' | 'forbidden' | 'failed';

export interface YjsDocOptions {
  /** An existing Y.Doc to sync (default: a new one). */
  doc?: Y.Doc;
  /** WebSocket base, default `ws(s)://<this origin>/yjs`. */
  wsBase?: string;
  /** The app's API client (from `apiContext`): on 4401 its 401 handler signs the app out. */
  api?: Api;
  /** Called once when the server says the session ended (4401); overrides the default. */
  onUnauthenticated?: () => void;
  /** The meeting the document belongs to: sent as `meeting=<id>` so that, with several nodes, HAProxy routes it to the meeting's node. */
  meetingId?: number;
}

/** The WebSocket URL parameters of a meeting's document (`meeting=<id>`; none for a document of no meeting). */
export const routingParams = (meetingId: number | undefined): Record<string, string> => (meetingId ? { [ROUTING_PARAM]: String(meetingId) } : {});

/**
 * Several server nodes (#18): a node that does not own the document's meeting refuses it with 1013 naming the
 * owner; the provider's next attempts carry `node=<owner>` so HAProxy sends them there ahead of its hash (which
 * may point at a node that came back while the owner keeps the meeting). A refusal naming no owner drops the
 * hint: the hash decides again. The stock provider reads `params` at every (re)connection.
 */
export function followOwnerHints(provider: WebsocketProvider): void {
  provider.on('connection-close', (ev: CloseEvent | null) => {
    if (ev?.code !== CLOSE_CODES.tryAgainLater) return;
    const owner = ownerOfRefusal(ev.reason ?? '');
    if (owner) provider.params[OWNER_HINT_PARAM] = owner;
    else delete provider.params[OWNER_HINT_PARAM];
  });
}

/** One synced document; `destroy()` when the view goes away. */
export class YjsConnection extends EventTarget {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  #status: YjsStatus = 'connecting';
  #synced = false;
  #ownsDoc: boolean;

  constructor(
    readonly name: string,
    opts: YjsDocOptions = {},
  ) {
    super();
    this.#ownsDoc = !opts.doc;
    this.doc = opts.doc ?? new Y.Doc();
    const base = opts.wsBase ?? `${location.origin.replace(/^http/, 'ws')}/yjs`;
    this.provider = new WebsocketProvider(base, name, this.doc, {
      maxBackoffTime: 5000,
      params: routingParams(opts.meetingId),
      // Refusals (44xx) and "frame too big" cannot be fixed by reconnecting.
      shouldReconnect: (ev: CloseEvent) => !isTerminalClose(ev.code),
    });
    followOwnerHints(this.provider);
    this.provider.on('status', ({ status }: { status: string }) => {
      if (this.#terminal()) return;
      if (status === 'connected') {
        connectivity.report(true);
        this.#set('online');
      } else if (status === 'connecting') this.#set(this.#status === 'offline' ? 'offline' : 'connecting');
      else this.#set('offline');
    });
    this.provider.on('sync', (synced: boolean) => {
      this.#synced = synced;
      this.dispatchEvent(new Event('change'));
    });
    this.provider.on('closed', ({ code }: { code: number }) => {
      if (code === CLOSE_CODES.unauthenticated) {
        this.#set('signed-out');
        (opts.onUnauthenticated ?? (() => signedOut(opts.api)))();
      } else if (code === CLOSE_CODES.forbidden) this.#set('forbidden');
      else this.#set('failed');
    });
  }

  /** Connection state for the UI (loading / offline / no access / error). */
  get status(): YjsStatus {
    return this.#status;
  }

  /** True once the first sync with the server completed on the current connection. */
  get synced(): boolean {
    return this.#synced;
  }

  #terminal(): boolean {
    return this.#status === 'signed-out' || this.#status === 'forbidden' || this.#status === 'failed';
  }

  #set(s: YjsStatus): void {
    if (s === this.#status) return;
    this.#status = s;
    this.dispatchEvent(new Event('change'));
  }

  /** Access revoked: stop syncing (status `forbidden`, no reconnect); the view still calls `destroy()`. */
  revoke(): void {
    this.provider.disconnect();
    this.#set('forbidden');
  }

  /** Disconnects and frees the provider (and the doc if this connection created it). */
  destroy(): void {
    this.provider.destroy();
    if (this.#ownsDoc) this.doc.destroy();
    this.dispatchEvent(new Event('destroyed'));
  }
}

/** Open connections, so a revoked meeting's documents can be closed wherever they were opened. */
const open = new Set<YjsConnection>();

/** Opens a collaborative document by name (see shared/protocol/yjs.ts for names). */
export function openYjsDoc(name: string, opts?: YjsDocOptions): YjsConnection {
  const conn = new YjsConnection(name, opts);
  open.add(conn);
  conn.addEventListener('destroyed', () => open.delete(conn));
  return conn;
}

/** The meeting a document name belongs to (`meeting:<id>:…`, `minutes:<id>`, `annotation:<doc>:shared:<id>`), or null. */
export function meetingOfDocName(name: string): number | null {
  const m = /^meeting:(\d+):/.exec(name) ?? /^minutes:(\d+)$/.exec(name) ?? /^annotation:\d+:shared:(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

// Access to a meeting revoked (client/services/socket.ts): its documents stop syncing at once, as if the
// server had closed them with 4403 (which it also does); the views showing them leave.
if (typeof window !== 'undefined') {
  window.addEventListener(MEETING_REVOKED, (e) => {
    const { meetingId } = (e as CustomEvent<{ meetingId: number }>).detail;
    for (const conn of [...open]) if (meetingOfDocName(conn.name) === meetingId) conn.revoke();
  });
}

/**
 * Default 4401 handling: ask the server who we are through the app's API client, whose 401
 * handler (ec-app) is the one place that signs out and shows the login screen. Without an API
 * client, go to the login screen directly.
 */
function signedOut(api?: Api): void {
  if (api) {
    void api.get('/api/auth/me').catch(() => {});
    return;
  }
  const here = location.pathname + location.search;
  navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
}
