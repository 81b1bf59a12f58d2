import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { authenticateCookie } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { ConnectionCaps, clientAddress, connectionLimits } from '../http/connection-caps.js';
import type { YjsHub } from './yjs.hub.js';

/** URL prefix of the Yjs endpoint: `/yjs/<document-name>`. */
export const YJS_PATH = '/yjs/';

/**
 * Attaches the app's Yjs hub to the HTTP server: handles `upgrade` requests for `/yjs/…` only
 * (Socket.IO and others keep theirs), and on close disconnects clients with 1001 and commits.
 */
export function attachYjs(ctx: { db: Db; config: Config; yjs: YjsHub }, server: http.Server): { close(): Promise<void> } {
  const hub = ctx.yjs;
  const caps = new ConnectionCaps(() => ({ perUser: connectionLimits.yjsPerUser, perAddress: connectionLimits.yjsPerAddress }));
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(YJS_PATH)) return;
    // Caps per user and per address before any work; the hub authorizes the document itself.
    const auth = authenticateCookie(ctx.db, req.headers.cookie, ctx.config.mfaRequiredRoles);
    if (auth) {
      const lease = caps.acquire(auth.user.id, clientAddress(req));
      if (!lease) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      socket.once('close', () => lease.release());
    }
    hub.handleUpgrade(req, socket, head);
  };
  server.on('upgrade', onUpgrade);
  return {
    async close() {
      server.off('upgrade', onUpgrade);
      await hub.close();
    },
  };
}
