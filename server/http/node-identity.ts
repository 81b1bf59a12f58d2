import crypto from 'node:crypto';
import type http from 'node:http';
import type { Server } from 'socket.io';

/** Response header naming the node that answered (cluster mode only): operators and tests see where HAProxy sent a request. */
export const NODE_HEADER = 'x-ecabinet-node';

/**
 * Cluster mode: every HTTP answer of this node carries {@link NODE_HEADER}, and so do the Socket.IO
 * handshakes (long-polling and the WebSocket upgrade). Socket.IO session ids start with `<nodeId>.`, so a
 * client (a test, an operator's console) can tell which node holds its connection without a request of its own.
 */
export function announceNode(server: http.Server, io: Server, nodeId: string): void {
  // Prepended: it runs before the listeners Socket.IO and express put there, for every request.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader(NODE_HEADER, nodeId));
  io.engine.on('headers', (headers: Record<string, string>) => {
    headers[NODE_HEADER] = nodeId;
  });
  // The default id is 15 random bytes too (base64id); only the prefix is new.
  io.engine.generateId = () => `${nodeId}.${crypto.randomBytes(15).toString('base64url')}`;
}
