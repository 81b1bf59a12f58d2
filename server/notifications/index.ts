import type { ServerModule } from '../context.js';
import { notificationRoutes } from './notifications.routes.js';
import { notificationsSocket } from './notifications.socket.js';

/** In-app notifications: the list over REST, `notifications:new` pushed after each commit. */
export const notificationsModule: ServerModule = { name: 'notifications', register: notificationRoutes, socket: notificationsSocket };
