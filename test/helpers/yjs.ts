import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/**
 * A `ws` WebSocket class that sends a fixed Cookie (and optional Origin) header, for the stock
 * y-websocket `WebsocketProvider` in Node (its `WebSocketPolyfill` option).
 */
export function cookieWebSocket(cookie: string, origin?: string): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const headers: Record<string, string> = {};
      if (cookie) headers.cookie = cookie;
      if (origin) headers.origin = origin;
      super(url, protocols, { headers });
    }
  } as unknown as typeof WebSocket;
}

export interface TestProvider {
  doc: Y.Doc;
  provider: WebsocketProvider;
  text: Y.Text;
  /** Close events the provider saw (code 0 = closed locally). */
  closes: number[];
  destroy(): void;
}

// In Node, each stock WebsocketProvider adds a process 'exit' listener (removed on destroy()); a test
// file holding a dozen providers (several tablets, several layers) is expected to pass Node's default of
// 10 and would print MaxListenersExceededWarning for what is not a leak.
process.setMaxListeners(Math.max(process.getMaxListeners(), 100));

/** Opens a stock `WebsocketProvider` on `<url>/yjs/<name>` with the given session cookie. */
export function openProvider(baseUrl: string, name: string, cookie: string, opts: { origin?: string; textName?: string; maxBackoffTime?: number } = {}): TestProvider {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(baseUrl.replace(/^http/, 'ws') + '/yjs', name, doc, {
    WebSocketPolyfill: cookieWebSocket(cookie, opts.origin) as never,
    disableBc: true,
    maxBackoffTime: opts.maxBackoffTime ?? 500,
  });
  const closes: number[] = [];
  provider.on('connection-close', (ev) => closes.push(ev?.code ?? 0));
  return {
    doc,
    provider,
    text: doc.getText(opts.textName ?? 't'),
    closes,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Opens a raw WebSocket to the hub and resolves with it once open (or with the close code). */
export function rawSocket(baseUrl: string, name: string, cookie: string, origin?: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (origin) headers.origin = origin;
  const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/yjs/' + encodeURIComponent(name), { headers });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ ws, closed }));
    closed.then(() => resolve({ ws, closed }));
  });
}
