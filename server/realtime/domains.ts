import { liveSocket } from '../live/live.socket.js';
import { notificationsSocket } from '../notifications/notifications.socket.js';
import type { SocketDomain } from './hub.js';
import { votesSocket } from '../votes/votes.socket.js';

/**
 * Domains that register Socket.IO commands, snapshot parts and bus subscriptions, in order.
 * A new domain adds its `xxxSocket` here (one line), like DOMAIN_ROUTES in server/app.ts.
 */
export const SOCKET_DOMAINS: SocketDomain[] = [liveSocket, votesSocket, notificationsSocket];
