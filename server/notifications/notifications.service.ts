import { and, desc, eq, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import { consultationVisible } from '../consultations/consultations.service.js';
import type { Store } from '../db/store.js';
import { notifications, tasks } from '../db/tables.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { taskVisible } from '../tasks/tasks.access.js';

type NotificationRow = typeof notifications.$inferSelect;

export { type NotificationEvent, Notifier } from './notifier.js';

/**
 * Whether a notification may be shown to `user` now. A notification copies a title (meeting, task,
 * consultation) when it is created; shown later, that title must not outlive the access that
 * justified it. So its subject is re-checked at read time with the domain's own rule: a task by
 * `taskVisible`, a consultation by `consultationVisible`, anything else of a meeting by
 * `meetingAccess` — a participant removed from a meeting (or a meeting back to draft) no longer
 * sees its news. `cache` spares repeated checks of one subject in a list.
 */
export async function notificationVisible(
  store: Store,
  user: AuthUser,
  n: Pick<NotificationRow, 'kind' | 'meetingId' | 'data'>,
  cache = new Map<string, boolean>(),
): Promise<boolean> {
  const taskId = n.data?.taskId;
  const consultationId = n.data?.consultationId;
  const key = typeof taskId === 'number' ? `t${taskId}` : typeof consultationId === 'number' ? `c${consultationId}` : n.meetingId != null ? `m${n.meetingId}` : null;
  if (key === null) return true;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let ok: boolean;
  if (typeof taskId === 'number') {
    const [t] = await store.q.select().from(tasks).where(eq(tasks.id, taskId)).limit(1);
    ok = !!t && (await taskVisible(store, user, t));
  } else if (typeof consultationId === 'number') {
    ok = await consultationVisible(store, user, consultationId);
  } else {
    try {
      await meetingAccess(store, user, n.meetingId!);
      ok = true;
    } catch {
      ok = false;
    }
  }
  cache.set(key, ok);
  return ok;
}

/**
 * The caller's notifications, newest first (at most 100), and how many are unread — both only
 * of what they may still see (`notificationVisible`); the list looks at the newest 1,000.
 */
export async function listNotifications(store: Store, user: AuthUser) {
  const cache = new Map<string, boolean>();
  const visible = (r: NotificationRow) => notificationVisible(store, user, r, cache);
  const rows: NotificationRow[] = [];
  const recent = await store.q.select().from(notifications).where(eq(notifications.userId, user.id)).orderBy(desc(notifications.createdAt), desc(notifications.id)).limit(1000);
  for (const r of recent) {
    if (!(await visible(r))) continue;
    rows.push(r);
    if (rows.length === 100) break;
  }
  let unread = 0;
  for (const r of await store.q
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, user.id), isNull(notifications.readAt)))) {
    if (await visible(r)) unread++;
  }
  return {
    notifications: rows.map((r) => ({ id: r.id, kind: r.kind, meetingId: r.meetingId, data: r.data, createdAt: r.createdAt, readAt: r.readAt })),
    unread,
  };
}
