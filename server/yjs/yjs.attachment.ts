import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ROUTING_PARAM, routedMeeting } from '../../shared/protocol/realtime.js';
import { authenticateCookie } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { ConnectionCaps, clientAddress, connectionLimits } from '../http/connection-caps.js';
import type { Logger } from '../log.js';
import type { YjsHub } from './yjs.hub.js';

/** URL prefix of the Yjs endpoint: `/yjs/<document-name>`. */
export const YJS_PATH = '/yjs/';

/**
 * Attaches the app's Yjs hub to the HTTP server: handles `upgrade` requests for `/yjs/…` only
 * (Socket.IO and others keep theirs), and on close disconnects clients with 1001 and commits.
 */
export function attachYjs(ctx: { store: Store; config: Config; log: Logger; yjs: YjsHub }, server: http.Server): { close(): Promise<void> } {
  const hub = ctx.yjs;
  const caps = new ConnectionCaps(() => ({ perUser: connectionLimits.yjsPerUser, perAddress: connectionLimits.yjsPerAddress }));
  const upgrade = async (req: http.IncomingMessage, socket: Duplex, head: Buffer, onError: () => void) => {
    // `meeting=<id>` only routes the connection (HAProxy hashes it); a malformed one is refused, as at the Socket.IO handshake.
    const routing = new URL(req.url ?? '', 'http://x').searchParams.getAll(ROUTING_PARAM);
    if (routedMeeting(routing.length === 0 ? null : routing.length === 1 ? routing[0] : routing) === 'invalid') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    // Caps per user and per address before any work; the hub authorizes the document itself.
    const auth = await authenticateCookie(ctx.store, req.headers.cookie, ctx.config.mfaRequiredRoles);
    // Gone while the session was looked up: no slot is taken (its `close` has passed).
    if (socket.destroyed) return;
    if (auth) {
      const lease = caps.acquire(auth.user.id, clientAddress(req, ctx.config.trustProxy));
      if (!lease) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      socket.once('close', () => lease.release());
    }
    socket.off('error', onError);
    hub.handleUpgrade(req, socket, head);
  };
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(YJS_PATH)) return;
    // Until the hub takes the socket, an error on it (the client went away) must not go unheard.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    upgrade(req, socket, head, onError).catch((err: unknown) => {
      ctx.log.error({ err }, 'yjs: upgrade failed');
      socket.destroy();
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    async close() {
      server.off('upgrade', onUpgrade);
      await hub.close();
    },
  };
}
