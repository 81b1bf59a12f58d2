import type { Server } from 'socket.io';
import type { Push } from '../../shared/protocol/realtime.js';
import type { Logger } from '../log.js';
import { type RealtimeHub, hubOptions, room, userRoom } from './hub.types.js';

type OutboxItem = { event: string; push: Push<unknown>; targets: string[]; pos: number };

/**
 * The hub's pushes: per meeting room a `seq` in the meeting's epoch (`meetingEpoch`: this run's `epoch`, in a
 * cluster with the meeting's lease epoch), written to small rooms at once and to
 * large ones in slices of `hubOptions.broadcastSlice` sockets per event-loop turn (FIFO per room);
 * unsequenced pushes to one user's sockets.
 *
 * Room pushes are local (`io.local`): a meeting's room and its `seq` live on its owner node (issue #18), so with
 * the Redis adapter they do not cross Redis; a user's pushes do, to reach their sockets on every node.
 */
export function createFanout(
  io: Server,
  log: Logger,
  epoch: string,
  meetingEpoch: (meetingId: number) => string = () => epoch,
): Pick<RealtimeHub, 'broadcast' | 'toUser' | 'seq'> & { clear(): void } {
  const seqs = new Map<number, number>();
  /** Room pushes still being delivered slice by slice, per meeting, in seq order. */
  const outbox = new Map<number, OutboxItem[]>();

  /** Sends the next slice of the meeting's oldest pending push now, and schedules the rest. */
  function drain(meetingId: number) {
    const queue = outbox.get(meetingId);
    if (!queue) return;
    let budget = hubOptions.broadcastSlice;
    try {
      while (budget > 0 && queue.length) {
        const item = queue[0];
        const slice = item.targets.slice(item.pos, item.pos + budget);
        item.pos += slice.length;
        budget -= slice.length;
        // Only sockets still in the room: one evicted since the broadcast (access revoked) gets nothing more.
        const members = io.sockets.adapter.rooms.get(room(meetingId));
        const still = members ? slice.filter((id) => members.has(id)) : [];
        if (still.length) io.local.to(still).emit(item.event, item.push);
        if (item.pos >= item.targets.length) queue.shift();
      }
    } catch (err) {
      // Never wedge the room's queue: drop the push that failed (clients resync on the seq gap).
      log.error({ err, meetingId, event: queue[0]?.event }, 'room push failed');
      queue.shift();
    }
    if (queue.length) setImmediate(drain, meetingId);
    else outbox.delete(meetingId);
  }

  return {
    broadcast(meetingId, event, data, opts) {
      const seq = (seqs.get(meetingId) ?? 0) + 1;
      seqs.set(meetingId, seq);
      const push: Push<typeof data> = { meetingId, epoch: meetingEpoch(meetingId), seq, data };
      const members = io.sockets.adapter.rooms.get(room(meetingId));
      if (!members?.size) return;
      const queue = outbox.get(meetingId);
      if (!queue && members.size <= hubOptions.broadcastSlice) {
        io.local.to(room(meetingId)).emit(event, push);
        return;
      }
      let targets = [...members];
      if (opts?.first) {
        const firstIds = new Set<string>();
        for (const u of opts.first) for (const id of io.sockets.adapter.rooms.get(userRoom(u)) ?? []) if (members.has(id)) firstIds.add(id);
        if (firstIds.size) targets = [...firstIds, ...targets.filter((id) => !firstIds.has(id))];
      }
      const item: OutboxItem = { event, push, targets, pos: 0 };
      if (queue) queue.push(item);
      else {
        outbox.set(meetingId, [item]);
        drain(meetingId);
      }
    },
    toUser(userId, event, data) {
      const push: Push<typeof data> = { meetingId: null, epoch, seq: null, data };
      io.to(userRoom(userId)).emit(event, push);
    },
    seq: (meetingId) => seqs.get(meetingId) ?? 0,
    /** Drops undelivered slices (the hub closes). */
    clear() {
      outbox.clear();
    },
  };
}
