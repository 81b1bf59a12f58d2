import { EventEmitter } from 'node:events';
import { and, eq, isNull } from 'drizzle-orm';
import { type Q, afterCommit } from '../db/store.js';
import type { OutboxWriter } from '../events.js';
import { notifications } from '../db/tables.js';

export interface NotificationEvent {
  userIds: number[];
  kind: string;
  meetingId: number | null;
}

/**
 * In-app notifications. `notify` writes rows (call it inside the change's transaction); after the
 * commit, `flush` emits `created` so the realtime hub can push a "you have news" signal. Only what a committed
 * transaction notified is flushed: a rolled-back one's signal is dropped with it (the pending list is shared by
 * every transaction of the app, and a later commit's flush would otherwise ping about rows that never existed).
 */
export class Notifier extends EventEmitter<{ created: [NotificationEvent] }> {
  private pending: NotificationEvent[] = [];
  private outbox: OutboxWriter | null = null;

  /** Cluster mode: the signal also goes to the other server nodes, through the database (server/cluster/outbox.ts). */
  setOutbox(writer: OutboxWriter | null): void {
    this.outbox = writer;
  }

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
    const event = { userIds, kind, meetingId };
    afterCommit(() => this.pending.push(event));
    if (this.outbox) await this.outbox(q, 'notifications:created', event);
  }

  /** Emits what `notify` recorded; call after the transaction committed. */
  flush(): void {
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.emit('created', e);
  }
}

