import crypto from 'node:crypto';
import type http from 'node:http';
import { Server } from 'socket.io';
import { REALTIME_COMMANDS, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { purgeOldCommands } from './commands.repo.js';
import { followRevocations, handshake } from './hub.access.js';
import { createCommands } from './hub.commands.js';
import { createFanout } from './hub.fanout.js';
import { createPresence } from './hub.presence.js';
import { connectHubRedis } from './redis.js';
import { type HubContext, type RealtimeHub, type SocketData, hubOptions, room, sessionRoom, userRoom } from './hub.types.js';

export { hubOptions };

/** How long after losing a meeting its sockets are closed: time for the not_owner answers in flight to leave. */
const STEP_DOWN_CLOSE_MS = 200;
export type { CommandContext, CommandHandler, Handlers, HubContext, RealtimeHub, SnapshotProvider } from './hub.types.js';

/**
 * Creates the Socket.IO hub on the HTTP server: handshake authentication by the session cookie,
 * Origin and protocol version checks, the hub's own commands (`meeting:join`, `meeting:leave`,
 * `clock:sync`) and then every domain's part (`domains`, the modules' `socket` hooks, in order).
 *
 * This function wires the parts: hub.access.ts (handshake, revocations), hub.commands.ts (the one
 * command wrapper), hub.fanout.ts (sequenced, sliced pushes), hub.presence.ts (who is in which room),
 * hub.types.ts (tunables and the types domains use).
 */
export function createHub(ctx: HubContext, server: http.Server, domains: ((hub: RealtimeHub) => void)[]): RealtimeHub & { close(): Promise<void> } {
  const log = ctx.log.child({ module: 'realtime' });
  const epoch = crypto.randomBytes(6).toString('base64url');
  // Cluster mode with Redis: a user's sockets may be on any node, so per-user pushes and disconnections go through
  // the Redis adapter; a meeting's room lives on its owner node and its pushes stay local (hub.fanout.ts).
  const redis = ctx.config.cluster.redisUrl ? connectHubRedis(ctx.config.cluster.redisUrl, log) : null;
  const io = new Server(server, {
    ...(redis && { adapter: redis.adapter }),
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: hubOptions.maxMessageBytes,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    connectionStateRecovery: undefined,
  });
  const ownership = ctx.ownership?.enabled ? ctx.ownership : null;
  // In a cluster a meeting's pushes carry its lease epoch too: a client that reaches the meeting's next owner
  // (or this node owning it again) sees another epoch and takes a full snapshot instead of trusting `seq`.
  const meetingEpoch = ownership ? (meetingId: number) => `${epoch}.${ownership.epoch(meetingId) ?? 0}` : () => epoch;
  const fanout = createFanout(io, log, epoch, meetingEpoch);
  const presence = createPresence(ctx.bus, fanout.broadcast);
  const snapshots = new Map<string, Parameters<RealtimeHub['snapshot']>[1]>();
  const commands = createCommands(ctx, log, () => hub);

  purgeOldCommands(ctx.store).catch((err: unknown) => log.warn({ err }, 'could not purge old command ids'));
  io.use(handshake(ctx));

  const hub: RealtimeHub & { close(): Promise<void> } = {
    io,
    epoch,
    redis: redis?.commands ?? null,
    commands: commands.commands,
    snapshot(domain, provider) {
      snapshots.set(domain, provider);
    },
    broadcast: fanout.broadcast,
    toUser: fanout.toUser,
    seq: fanout.seq,
    online: presence.online,
    onPresence: presence.onPresence,
    async close() {
      stopRevocations();
      fanout.clear();
      presence.clear();
      io.disconnectSockets(true);
      await new Promise<void>((r) => io.close(() => r()));
      redis?.close();
    },
  };

  hub.commands(REALTIME_COMMANDS, {
    'meeting:join': async ({ meetingId }, c) => {
      const a = await c.access(meetingId);
      // A cluster node serves a meeting only while it owns it: it takes a free or expired lease, else
      // answers not_owner (with the owner) and the client retries through HAProxy.
      if (ownership) await ownership.claim(meetingId);
      // The sequence number is taken before the snapshot is read (its parts may wait on the database): a push
      // made meanwhile has a higher one, so the client applies it rather than dropping it as already seen.
      const seq = hub.seq(meetingId);
      const data = c.socket.data as SocketData;
      if (!data.meetings.has(meetingId)) {
        data.meetings.add(meetingId);
        c.socket.join(room(meetingId));
        presence.track(meetingId, c.user.id, 1);
      }
      const snapshot: Record<string, unknown> = {};
      for (const [domain, provider] of snapshots) snapshot[domain] = await provider(meetingId, a, c.user);
      return {
        meetingId,
        userId: c.user.id,
        epoch: meetingEpoch(meetingId),
        seq,
        serverTime: Date.now(),
        access: { role: a.role, canVote: a.canVote, canManage: a.canManage, canChair: a.canChair },
        snapshot,
      };
    },
    'meeting:leave': ({ meetingId }, c) => {
      const data = c.socket.data as SocketData;
      if (data.meetings.delete(meetingId)) {
        c.socket.leave(room(meetingId));
        presence.track(meetingId, c.user.id, -1);
      }
      return { meetingId };
    },
    'clock:sync': () => ({ serverTime: Date.now() }),
  });
  for (const register of domains) register(hub);

  const stopRevocations = followRevocations(ctx, io, epoch, presence, redis !== null);

  // A meeting this node no longer owns (lease lost, node stopping): its sockets here leave the room at once
  // (no push of a former owner reaches them) and are closed at the transport a moment later, once the
  // not_owner answers of the commands that found the lease gone are sent; their clients reconnect (through
  // HAProxy, to the owner) and join again. A server-side `disconnect` would leave socket.io-client
  // disconnected for good.
  ownership?.onLost((meetingId) => {
    const ids = [...(io.sockets.adapter.rooms.get(room(meetingId)) ?? [])];
    for (const id of ids) {
      const socket = io.sockets.sockets.get(id);
      if (!socket) continue;
      const data = socket.data as SocketData;
      if (data.meetings.delete(meetingId)) presence.track(meetingId, data.user.id, -1);
      socket.leave(room(meetingId));
    }
    setTimeout(() => {
      for (const id of ids) io.sockets.sockets.get(id)?.conn.close();
    }, STEP_DOWN_CLOSE_MS).unref();
  });

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    // The session's room lets a logout reach this socket from any node (hub.access.ts).
    socket.join([userRoom(data.user.id), sessionRoom(data.tokenHash)]);
    log.debug({ socketId: socket.id, userId: data.user.id }, 'socket connected');
    commands.attach(socket);
    socket.on('disconnect', () => {
      data.lease.release();
      for (const m of data.meetings) presence.track(m, data.user.id, -1);
      data.meetings.clear();
      commands.forget(socket.id);
    });
  });

  return hub;
}
