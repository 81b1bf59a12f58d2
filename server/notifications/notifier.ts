import { EventEmitter } from 'node:events';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Store } from '../db/store.js';
import { notifications } from '../db/tables.js';

export interface NotificationEvent {
  userIds: number[];
  kind: string;
  meetingId: number | null;
}

/**
 * In-app notifications. `add` writes rows (call it inside the change's transaction); after the
 * commit, `flush` emits `created` so the realtime hub can push a "you have news" signal.
 */
export class Notifier extends EventEmitter<{ created: [NotificationEvent] }> {
  private pending: NotificationEvent[] = [];

  /**
   * Adds one notification per user (call it inside the change's `store.tx`). For `agenda_updated`, an
   * unread one for the same meeting is refreshed instead of piling up a new row per edit.
   */
  async notify(store: Store, userIds: number[], kind: string, meetingId: number | null, data: Record<string, unknown>): Promise<void> {
    if (userIds.length === 0) return;
    for (const userId of userIds) {
      if (kind === 'agenda_updated' && meetingId != null) {
        const [existing] = await store.q
          .select({ id: notifications.id })
          .from(notifications)
          .where(and(eq(notifications.userId, userId), eq(notifications.kind, kind), eq(notifications.meetingId, meetingId), isNull(notifications.readAt)))
          .limit(1);
        if (existing) {
          await store.q.update(notifications).set({ data, createdAt: new Date().toISOString() }).where(eq(notifications.id, existing.id));
          continue;
        }
      }
      await store.q.insert(notifications).values({ userId, kind, meetingId, data });
    }
    this.pending.push({ userIds, kind, meetingId });
  }

  /**
   * `notify` on the legacy synchronous `Db`, for the domains whose transactions are not on the store
   * yet (agenda, minutes; issue #17). Same rows, same event.
   */
  add(db: Db, userIds: number[], kind: string, meetingId: number | null, data: Record<string, unknown>): void {
    if (userIds.length === 0) return;
    for (const userId of userIds) {
      if (kind === 'agenda_updated' && meetingId != null) {
        const existing = db
          .select({ id: notifications.id })
          .from(notifications)
          .where(and(eq(notifications.userId, userId), eq(notifications.kind, kind), eq(notifications.meetingId, meetingId), isNull(notifications.readAt)))
          .get();
        if (existing) {
          db.update(notifications)
            .set({ data, createdAt: new Date().toISOString() })
            .where(eq(notifications.id, existing.id))
            .run();
          continue;
        }
      }
      db.insert(notifications).values({ userId, kind, meetingId, data }).run();
    }
    this.pending.push({ userIds, kind, meetingId });
  }

  /** Emits what `add` recorded; call after the transaction committed. */
  flush(): void {
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.emit('created', e);
  }
}

