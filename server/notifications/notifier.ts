import { EventEmitter } from 'node:events';
import { and, eq, isNull } from 'drizzle-orm';
import type { Q } from '../db/store.js';
import { notifications } from '../db/tables.js';

export interface NotificationEvent {
  userIds: number[];
  kind: string;
  meetingId: number | null;
}

/**
 * In-app notifications. `notify` writes rows (call it inside the change's transaction); after the
 * commit, `flush` emits `created` so the realtime hub can push a "you have news" signal.
 */
export class Notifier extends EventEmitter<{ created: [NotificationEvent] }> {
  private pending: NotificationEvent[] = [];

  /**
   * Adds one notification per user (call it inside the change's `store.tx`, `q` its builder). For `agenda_updated`, an
   * unread one for the same meeting is refreshed instead of piling up a new row per edit.
   */
  async notify(q: Q, userIds: number[], kind: string, meetingId: number | null, data: Record<string, unknown>): Promise<void> {
    if (userIds.length === 0) return;
    for (const userId of userIds) {
      if (kind === 'agenda_updated' && meetingId != null) {
        const [existing] = await q
          .select({ id: notifications.id })
          .from(notifications)
          .where(and(eq(notifications.userId, userId), eq(notifications.kind, kind), eq(notifications.meetingId, meetingId), isNull(notifications.readAt)))
          .limit(1);
        if (existing) {
          await q.update(notifications).set({ data, createdAt: new Date().toISOString() }).where(eq(notifications.id, existing.id));
          continue;
        }
      }
      await q.insert(notifications).values({ userId, kind, meetingId, data });
    }
    this.pending.push({ userIds, kind, meetingId });
  }

  /** Emits what `notify` recorded; call after the transaction committed. */
  flush(): void {
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.emit('created', e);
  }
}

