import type { EventBus } from '../events.js';
import { type RealtimeHub, hubOptions } from './hub.types.js';

/**
 * Who is in which meeting room (socket counts per user) and the `presence:changed` pushes, coalesced
 * per meeting to at most one per `hubOptions.presenceCoalesceMs` (the first at once). A change is
 * also emitted on the bus and given to the `onPresence` listeners.
 */
export function createPresence(bus: EventBus, broadcast: RealtimeHub['broadcast']) {
  const presence = new Map<number, Map<number, number>>(); // meetingId → userId → socket count
  const presenceListeners: ((m: number, u: number, online: boolean) => void)[] = [];
  /** Presence changes not yet pushed, per meeting (latest state per user), and when the last push went out. */
  const presencePending = new Map<number, { changes: Map<number, boolean>; timer: NodeJS.Timeout | null; lastAt: number }>();

  function queuePresence(meetingId: number, userId: number, online: boolean) {
    let p = presencePending.get(meetingId);
    if (!p) presencePending.set(meetingId, (p = { changes: new Map(), timer: null, lastAt: 0 }));
    p.changes.set(userId, online);
    if (p.timer) return;
    const wait = p.lastAt + hubOptions.presenceCoalesceMs - Date.now();
    if (wait <= 0) flushPresence(meetingId);
    else p.timer = setTimeout(flushPresence, wait, meetingId);
  }

  function flushPresence(meetingId: number) {
    const p = presencePending.get(meetingId);
    if (!p) return;
    p.timer = null;
    p.lastAt = Date.now();
    if (!p.changes.size) return;
    const changes = [...p.changes].map(([userId, online]) => ({ userId, online }));
    p.changes.clear();
    broadcast(meetingId, 'presence:changed', { changes });
  }

  return {
    /** One more (`1`) or one fewer (`-1`) socket of a user in a meeting room. */
    track(meetingId: number, userId: number, delta: 1 | -1) {
      let users = presence.get(meetingId);
      if (!users) presence.set(meetingId, (users = new Map()));
      const before = users.get(userId) ?? 0;
      const after = Math.max(0, before + delta);
      if (after === 0) users.delete(userId);
      else users.set(userId, after);
      if ((before === 0) !== (after === 0)) {
        const online = after > 0;
        queuePresence(meetingId, userId, online);
        bus.emit('presence:changed', { meetingId, userId, online });
        for (const fn of presenceListeners) fn(meetingId, userId, online);
      }
    },
    online: ((meetingId) => new Set(presence.get(meetingId)?.keys() ?? [])) as RealtimeHub['online'],
    onPresence: ((fn) => {
      presenceListeners.push(fn);
    }) as RealtimeHub['onPresence'],
    /** Cancels the pending coalesced pushes (the hub closes). */
    clear() {
      for (const p of presencePending.values()) if (p.timer) clearTimeout(p.timer);
      presencePending.clear();
    },
  };
}

/** The presence part of a hub (see `createPresence`). */
export type Presence = ReturnType<typeof createPresence>;
