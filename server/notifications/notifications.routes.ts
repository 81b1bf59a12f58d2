import { and, eq, isNull } from 'drizzle-orm';
import { IdParams } from '../../shared/protocol/common.js';
import { NotificationList } from '../../shared/protocol/notifications.js';
import type { AppContext } from '../context.js';
import { notifications } from '../db/tables.js';
import { notFound } from '../http/errors.js';
import { listNotifications } from './notifications.service.js';

/** The caller's in-app notifications. */
export function notificationRoutes({ api, store }: AppContext): void {
  api.route(
    { method: 'get', path: '/api/notifications', summary: 'My notifications, newest first', tags: ['notifications'], access: 'user', response: NotificationList },
    ({ user }) => listNotifications(store, user),
  );
  api.route(
    { method: 'post', path: '/api/notifications/:id/read', summary: 'Mark one notification read', tags: ['notifications'], access: 'user', params: IdParams, noContent: true },
    async ({ user, params }) => {
      const r = await store.q
        .update(notifications)
        .set({ readAt: new Date().toISOString() })
        .where(and(eq(notifications.id, params.id), eq(notifications.userId, user.id)))
        .returning({ id: notifications.id });
      if (r.length === 0) throw notFound('Notification');
      return undefined;
    },
  );
  api.route(
    { method: 'post', path: '/api/notifications/read-all', summary: 'Mark all my notifications read', tags: ['notifications'], access: 'user', noContent: true },
    async ({ user }) => {
      await store.q
        .update(notifications)
        .set({ readAt: new Date().toISOString() })
        .where(and(eq(notifications.userId, user.id), isNull(notifications.readAt)));
      return undefined;
    },
  );
}
