import type { Attachment } from '../server.js';
import { SOCKET_DOMAINS } from './domains.js';
import { createHub } from './hub.js';

/** The Socket.IO hub as an attachment of the HTTP server (listed in ATTACHMENTS, server/server.ts). */
export const realtimeAttachment: Attachment = (app, server) => createHub(app, server, SOCKET_DOMAINS);
