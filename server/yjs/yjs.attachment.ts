import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Attachment } from '../server.js';
import { yjsHub } from './yjs.hub.js';

/** URL prefix of the Yjs endpoint: `/yjs/<document-name>`. */
export const YJS_PATH = '/yjs/';

/**
 * Attaches the app's Yjs hub to the HTTP server: handles `upgrade` requests for `/yjs/…` only
 * (Socket.IO and others keep theirs), and on close disconnects clients with 1001 and commits.
 */
export const yjsAttachment: Attachment = (app, server) => {
  const hub = yjsHub(app.ctx);
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith(YJS_PATH)) hub.handleUpgrade(req, socket, head);
  };
  server.on('upgrade', onUpgrade);
  return {
    async close() {
      server.off('upgrade', onUpgrade);
      await hub.close();
    },
  };
};
