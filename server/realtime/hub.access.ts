import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import { Id } from '../../shared/protocol/common.js';
import { PROTOCOL_VERSION, ROUTING_PARAM, routedMeeting } from '../../shared/protocol/realtime.js';
import { authenticateCookie } from '../auth/sessions.js';
import { ConnectionCaps, clientAddress, connectionLimits } from '../http/connection-caps.js';
import { originAllowed } from '../http/security.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import type { Presence } from './hub.presence.js';
import { type HubContext, type SocketData, connectError, room, sessionRoom, userRoom } from './hub.types.js';

/**
 * The handshake of every socket (the `io.use` middleware): Origin, session cookie, protocol version,
 * connection caps per user and per address; what it admits is kept in `socket.data` (`SocketData`).
 */
export function handshake(ctx: HubContext) {
  const { store, config } = ctx;
  const socketCaps = new ConnectionCaps(() => ({ perUser: connectionLimits.socketsPerUser, perAddress: connectionLimits.socketsPerAddress }));
  const admit = async (socket: Socket, next: (err?: Error) => void) => {
    const h = socket.handshake;
    const origin = h.headers.origin;
    // Browsers always send Origin on a WebSocket/XHR handshake; a foreign one is a cross-site attempt
    // riding on the cookie. Non-browser clients (tests, tools) send none and are allowed.
    if (origin && !originAllowed(origin, h.headers.host, config)) return next(connectError('csrf', 'Foreign origin refused'));
    // `meeting=<id>` is only a routing key (HAProxy hashes it to the meeting's node, docs/DEPLOY.md); a malformed
    // one would be hashed like any string and land anywhere, so it is refused rather than silently served.
    if (routedMeeting(h.query[ROUTING_PARAM]) === 'invalid') return next(connectError('invalid_payload', 'meeting: a meeting id (digits, no sign, no leading zero)'));
    const auth = await authenticateCookie(store, h.headers.cookie, config.mfaRequiredRoles);
    if (!auth) return next(connectError('unauthenticated', 'Sign in first'));
    // Gone while the session was looked up: Socket.IO drops it, and no slot may be taken for it (the slot is released on `disconnect` only).
    if (socket.conn.readyState !== 'open') return next(connectError('unauthenticated', 'Connection closed'));
    const version = (h.auth as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (version !== PROTOCOL_VERSION) return next(connectError('protocol_mismatch', `Protocol version ${PROTOCOL_VERSION} required; reload the app`));
    // One user (or one address) may not hold more than a few dozen sockets: each costs memory and a
    // share of every broadcast. The slot is released when the socket disconnects.
    const lease = socketCaps.acquire(auth.user.id, clientAddress(socket.request, config.trustProxy));
    if (!lease) return next(connectError('rate_limited', 'Too many open connections; close other tabs or devices'));
    (socket.data as SocketData) = { user: auth.user, tokenHash: auth.tokenHash, meetings: new Set(), cookie: h.headers.cookie, checkedAt: Date.now(), lease };
    next();
  };
  // The session lookup failing (the database) refuses the socket with `internal`; never an unhandled rejection.
  return (socket: Socket, next: (err?: Error) => void) => {
    admit(socket, next).catch((err: unknown) => {
      ctx.log.error({ err }, 'socket handshake failed');
      next(connectError('internal', 'Server error'));
    });
  };
}

/** Told to the other nodes (Redis adapter) when participants were removed from a meeting: their sockets there are evicted too. */
const REMOVED_EVENT = 'ecabinet:participants-removed';
/** How long a socket told that it lost a meeting is not told again (the same change may arrive by Redis and by the database). */
const TOLD_MS = 10_000;

/** The second argument an event delivered from another node carries (server/events.ts in cluster mode). */
type EventMeta = { remote?: boolean } | undefined;

/**
 * Access taken away while sockets are open: an ended session (`session:ended`) disconnects its
 * sockets; a changed meeting (`meeting:changed`) evicts from its room every socket whose user may
 * no longer see it. Returns the unsubscribe function.
 *
 * With the Redis adapter (`shared`, cluster mode) a user's sockets may be on any node: a logout, a deactivation and
 * the participants removed from a meeting reach them on every node. An event this node heard from another node's
 * change (`remote`) is applied to this node's sockets only — the node that made the change already told the others.
 */
export function followRevocations(ctx: HubContext, io: Server, epoch: string, presence: Pick<Presence, 'track'>, shared = false): () => void {
  const { track } = presence;
  // A logout, a deactivation or a password reset closes the sockets of the ended sessions at once:
  // pushes must not keep reaching a tablet whose user signed out. Each socket is in its session's room.
  const onSessionEnded = (e: { tokenHash: string } | { userId: number }, meta?: EventMeta) => {
    const target = 'userId' in e ? userRoom(e.userId) : sessionRoom(e.tokenHash);
    (meta?.remote ? io.local : io).in(target).disconnectSockets(true);
  };
  ctx.bus.on('session:ended', onSessionEnded);

  const socketsIn = (name: string) => [...(io.sockets.adapter.rooms.get(name) ?? [])].flatMap((id) => io.sockets.sockets.get(id) ?? []);
  /** `meetingId:socketId` → until when it counts as told (see TOLD_MS). */
  const recentlyTold = new Map<string, number>();

  // Membership changes take effect at once: after a meeting changed (participants removed, unpublished,
  // cancelled), every socket in its room whose user may no longer see it leaves the room — on every
  // connection they have — and is told so; no later push of that meeting reaches it. Participants
  // removed by the change are told on their other sockets too (a tablet showing one of the meeting's
  // documents without having joined its room), so every open view of the meeting can leave it.
  async function revoke(meetingId: number, removedUserIds: number[]) {
    // First who may still see the meeting (one check per user), then the sockets as they are by then:
    // one that joined meanwhile was checked by its own `meeting:join`.
    const allowed = new Map<number, boolean>();
    const concerned = [...removedUserIds.flatMap((userId) => socketsIn(userRoom(userId)).slice(0, 1)), ...socketsIn(room(meetingId))];
    for (const socket of concerned) {
      const { user } = socket.data as SocketData;
      if (allowed.has(user.id)) continue;
      allowed.set(user.id, await meetingAccess(ctx.store, user, meetingId).then(() => true, () => false));
    }
    const revoked = { meetingId, epoch, seq: null, data: { meetingId } };
    const now = Date.now();
    for (const [key, until] of recentlyTold) if (until <= now) recentlyTold.delete(key);
    const evict = (socket: Socket) => {
      const data = socket.data as SocketData;
      socket.leave(room(meetingId));
      if (data.meetings.delete(meetingId)) track(meetingId, data.user.id, -1);
      const key = `${meetingId}:${socket.id}`;
      if (recentlyTold.has(key)) return;
      socket.emit('meeting:access_revoked', revoked);
      recentlyTold.set(key, now + TOLD_MS);
    };
    for (const userId of removedUserIds) if (allowed.get(userId) === false) for (const socket of socketsIn(userRoom(userId))) evict(socket);
    for (const socket of socketsIn(room(meetingId))) if (allowed.get((socket.data as SocketData).user.id) === false) evict(socket);
  }
  const apply = (meetingId: number, removedUserIds: number[]) => {
    revoke(meetingId, removedUserIds).catch((err: unknown) => ctx.log.error({ err, meetingId }, 'could not apply a meeting change to its sockets'));
  };
  const onMeetingChanged = ({ meetingId, removedUserIds = [] }: { meetingId: number; removedUserIds?: number[] }, meta?: EventMeta) => {
    apply(meetingId, removedUserIds);
    // The removed participants' sockets on the other nodes: each node checks and evicts its own.
    if (shared && !meta?.remote && removedUserIds.length) io.serverSideEmit(REMOVED_EVENT, { meetingId, removedUserIds });
  };
  ctx.bus.on('meeting:changed', onMeetingChanged);
  const onRemoved = (msg: unknown) => {
    const parsed = RemovedMessage.safeParse(msg);
    if (parsed.success) apply(parsed.data.meetingId, parsed.data.removedUserIds);
    else ctx.log.warn({ issues: parsed.error.issues.length }, 'ignored a malformed participants-removed message from another node');
  };
  if (shared) io.on(REMOVED_EVENT, onRemoved);
  return () => {
    ctx.bus.off('session:ended', onSessionEnded);
    ctx.bus.off('meeting:changed', onMeetingChanged);
    if (shared) io.off(REMOVED_EVENT, onRemoved);
  };
}

/** What another node sends under REMOVED_EVENT (Redis is shared infrastructure: checked, never trusted blindly). */
const RemovedMessage = z.object({ meetingId: Id, removedUserIds: z.array(Id).max(10_000) }).strict();
