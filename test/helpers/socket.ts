import crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../../shared/protocol/common.js';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { type HttpClient, until } from './server.js';

export interface TestSocket {
  socket: Socket;
  /** Sends a command and resolves with its acknowledgement (rejects after 5 s without one). */
  cmd<T = any>(event: string, payload?: unknown): Promise<Ack<T>>;
  /** Every push received so far, in order: [event, push]. */
  received: [string, any][];
  /** Pushes of one event, in order (their `data`). */
  pushes<T = any>(event: string): T[];
  /** Waits until a push of `event` satisfies `pred` and returns its data. */
  waitFor<T = any>(event: string, pred?: (data: T) => boolean, what?: string): Promise<T>;
  close(): void;
}

/**
 * A real socket.io-client carrying the HTTP client's session cookie, as a tablet would be.
 * `origin` sets the Origin header (browsers always send one); `protocolVersion` overrides ours.
 */
export function connectSocket(
  url: string,
  client: HttpClient | null,
  opts: { origin?: string; protocolVersion?: number; reconnection?: boolean } = {},
): TestSocket {
  const headers: Record<string, string> = {};
  if (client?.cookie) headers.cookie = client.cookie;
  if (opts.origin) headers.origin = opts.origin;
  const socket = io(url, {
    path: SOCKET_PATH,
    transports: ['websocket'],
    extraHeaders: headers,
    auth: { protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION },
    reconnection: opts.reconnection ?? true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  const received: [string, any][] = [];
  socket.onAny((event, push) => received.push([event, push]));
  return {
    socket,
    received,
    cmd: (event, payload) => socket.timeout(5000).emitWithAck(event, payload),
    pushes: (event) => received.filter(([e]) => e === event).map(([, p]) => p.data),
    async waitFor(event, pred = () => true, what = event) {
      return until(() => received.find(([e, p]) => e === event && pred(p.data))?.[1].data, { what });
    },
    close: () => socket.close(),
  };
}

/** Connects and waits for the connection (or throws the connect error's `data.code`). */
export async function connected(s: TestSocket): Promise<TestSocket> {
  await new Promise<void>((resolve, reject) => {
    if (s.socket.connected) return resolve();
    s.socket.once('connect', () => resolve());
    s.socket.once('connect_error', (e: Error & { data?: { code?: string } }) => reject(new Error(e.data?.code ?? e.message)));
  });
  return s;
}

/** A fresh command id, as the client service generates them. */
export const newCommandId = () => crypto.randomUUID();
