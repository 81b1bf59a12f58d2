import crypto from 'node:crypto';
import type http from 'node:http';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import type { Ack } from '../../shared/protocol/common.js';
import type { PushData, PushName } from '../../shared/protocol/socket-events.js';
import { type ErrorCode, isErrorCode } from '../../shared/protocol/errors.js';
import {
  CommandId,
  type CommandPayload,
  type CommandResult,
  type CommandSpec,
  type CommandTable,
  PROTOCOL_VERSION,
  type Push,
  REALTIME_COMMANDS,
  SOCKET_PATH,
} from '../../shared/protocol/realtime.js';
import { type AuthUser, authenticateCookie } from '../auth/sessions.js';
import type { Config } from '../config.js';
import { type Db, tx } from '../db/client.js';
import { AppError } from '../http/errors.js';
import { ConnectionCaps, type Lease, clientAddress, connectionLimits } from '../http/connection-caps.js';
import { originAllowed } from '../http/security.js';
import type { Logger } from '../log.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';
import type { EventBus } from '../events.js';
import { findCommandAck, purgeOldCommands, saveCommandAck } from './commands.repo.js';

/** Tunables of the hub; tests and benchmarks may change them before the server starts. */
export const hubOptions = {
  /** Commands per socket per window; beyond it the socket gets `rate_limited` acks. */
  ratePoints: 40,
  rateWindowSeconds: 1,
  /** Largest Socket.IO message accepted (bytes). */
  maxMessageBytes: 64 * 1024,
  /** Acks of non-persisted commands remembered for retries (per process). */
  memoryAckCache: 20_000,
  /**
   * How often (ms) a socket's session is checked again before a command: after a logout, an expiry or
   * a deactivation the next command is refused with `unauthenticated` and the socket is closed.
   */
  sessionRecheckMs: 30_000,
  /**
   * A room push goes out to at most this many sockets per event-loop turn. Writing one frame costs
   * 15–30 µs per socket (a syscall and the stream's bookkeeping), so a push to a 1,000-socket room
   * sent in one go would hold the loop for 15–30 ms and every command arriving meanwhile (a ballot)
   * would wait. In slices, commands are served between them. Order per room is kept (FIFO).
   */
  broadcastSlice: 25,
  /**
   * Presence pushes of a meeting are coalesced: at most one `presence:changed` per this many ms
   * (the first at once), listing every user whose state changed since the last one. When a
   * 1,000-member assembly connects at the start, that is a few dozen room pushes, not a thousand.
   */
  presenceCoalesceMs: 250,
};

/** What a command handler receives besides its parsed payload. */
export interface CommandContext {
  /** The authenticated caller (from the session cookie at the handshake). */
  user: AuthUser;
  socket: Socket;
  /** A child logger with the socket id, user id and event. Never log payloads of ballots. */
  log: Logger;
  ctx: HubContext;
  hub: RealtimeHub;
  /**
   * `meetingAccess()` for the caller: throws `not_found` when the meeting is not visible to them.
   * Check `canChair` / `canManage` / `canVote` on the result for finer rules.
   */
  access(meetingId: number): MeetingAccess;
  /**
   * Runs `fn` in one synchronous SQLite transaction and, for an authoritative command with a
   * `commandId`, records the command and its successful acknowledgement (`fn`'s return value) in
   * the same transaction: a retry after a crash is then answered without applying it twice.
   * Return the value `tx` returned from the handler.
   */
  tx<T>(fn: (db: Db) => T): T;
}

export type CommandHandler<C extends CommandSpec> = (payload: CommandPayload<C>, c: CommandContext) => CommandResult<C> | Promise<CommandResult<C>>;

/** Handlers for every command of a table. */
export type Handlers<T extends CommandTable> = { [K in keyof T]: CommandHandler<T[K]> };

/**
 * A domain's part of the meeting snapshot sent with every `meeting:join` ack (under its name).
 * Runs synchronously so the snapshot is consistent with the room's `seq`.
 */
export type SnapshotProvider = (meetingId: number, access: MeetingAccess, user: AuthUser) => unknown;

/** The realtime hub: one Socket.IO server, one room per meeting. */
export interface RealtimeHub {
  io: Server;
  /** This server run's id; pushes carry it so clients detect a restart. */
  epoch: string;
  /**
   * Registers the handlers of a command table through the one wrapper: validation, rate limit,
   * dedupe by `commandId`, error funnel, logging.
   */
  commands<T extends CommandTable>(table: T, handlers: Handlers<T>): void;
  /** Adds a domain's part to the `meeting:join` snapshot. */
  snapshot(domain: string, provider: SnapshotProvider): void;
  /**
   * Pushes `data` to everyone in the meeting's room, stamped with the next `seq`. Call after the
   * transaction. Large rooms are served in slices across event-loop turns (see
   * `hubOptions.broadcastSlice`), in `seq` order; the sockets of `first` users (e.g. the chair
   * waiting for a final count) are served in the first slice. Sockets that join after the call get
   * the change in their snapshot instead.
   */
  broadcast<E extends PushName>(meetingId: number, event: E, data: PushData<E>, opts?: { first?: Iterable<number> }): void;
  /** Pushes `data` to every socket of one user (not sequenced), e.g. a private confirmation. */
  toUser<E extends PushName>(userId: number, event: E, data: PushData<E>): void;
  /** The current `seq` of a meeting room in this epoch. */
  seq(meetingId: number): number;
  /** Users with at least one socket joined to the meeting room. */
  online(meetingId: number): Set<number>;
  /** Called when a user's presence in a meeting room changes (also emitted on ctx.bus). */
  onPresence(fn: (meetingId: number, userId: number, online: boolean) => void): void;
}

type OutboxItem = { event: string; push: Push<unknown>; targets: string[]; pos: number };

type SocketData = { user: AuthUser; tokenHash: string; meetings: Set<number>; cookie: string | undefined; checkedAt: number; lease: Lease };

/** What the hub needs of the app (server/context.ts `AppContext` has it all; the hub never imports it). */
export interface HubContext {
  db: Db;
  config: Config;
  log: Logger;
  bus: EventBus;
}

const UNCACHED_ERRORS = new Set(['rate_limited', 'invalid_payload', 'internal']);

/**
 * Creates the Socket.IO hub on the HTTP server: handshake authentication by the session cookie,
 * Origin and protocol version checks, the hub's own commands (`meeting:join`, `meeting:leave`,
 * `clock:sync`) and then every domain's part (`domains`, the modules' `socket` hooks, in order).
 */
export function createHub(ctx: HubContext, server: http.Server, domains: ((hub: RealtimeHub) => void)[]): RealtimeHub & { close(): Promise<void> } {
  const { db, config } = ctx;
  const log = ctx.log.child({ module: 'realtime' });
  const epoch = crypto.randomBytes(6).toString('base64url');
  const io = new Server(server, {
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: hubOptions.maxMessageBytes,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    connectionStateRecovery: undefined,
  });
  const limiter = new RateLimiterMemory({ points: hubOptions.ratePoints, duration: hubOptions.rateWindowSeconds });
  const seqs = new Map<number, number>();
  const snapshots = new Map<string, SnapshotProvider>();
  const presence = new Map<number, Map<number, number>>(); // meetingId → userId → socket count
  const presenceListeners: ((m: number, u: number, online: boolean) => void)[] = [];
  const registered: [string, (socket: Socket, args: unknown[]) => void][] = [];
  const known = new Set<string>();
  const memAcks = new Map<string, Promise<Ack<unknown>>>();
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
        if (still.length) io.to(still).emit(item.event, item.push);
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

  purgeOldCommands(db);
  const socketCaps = new ConnectionCaps(() => ({ perUser: connectionLimits.socketsPerUser, perAddress: connectionLimits.socketsPerAddress }));

  io.use((socket, next) => {
    const h = socket.handshake;
    const origin = h.headers.origin;
    // Browsers always send Origin on a WebSocket/XHR handshake; a foreign one is a cross-site attempt
    // riding on the cookie. Non-browser clients (tests, tools) send none and are allowed.
    if (origin && !originAllowed(origin, h.headers.host, config)) return next(connectError('csrf', 'Foreign origin refused'));
    const auth = authenticateCookie(db, h.headers.cookie, config.mfaRequiredRoles);
    if (!auth) return next(connectError('unauthenticated', 'Sign in first'));
    const version = (h.auth as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (version !== PROTOCOL_VERSION) return next(connectError('protocol_mismatch', `Protocol version ${PROTOCOL_VERSION} required; reload the app`));
    // One user (or one address) may not hold more than a few dozen sockets: each costs memory and a
    // share of every broadcast. The slot is released when the socket disconnects.
    const lease = socketCaps.acquire(auth.user.id, clientAddress(socket.request));
    if (!lease) return next(connectError('rate_limited', 'Too many open connections; close other tabs or devices'));
    (socket.data as SocketData) = { user: auth.user, tokenHash: auth.tokenHash, meetings: new Set(), cookie: h.headers.cookie, checkedAt: Date.now(), lease };
    next();
  });

  const hub: RealtimeHub & { close(): Promise<void> } = {
    io,
    epoch,
    commands(table, handlers) {
      for (const [event, spec] of Object.entries(table)) {
        const handler = handlers[event as keyof typeof handlers] as CommandHandler<CommandSpec> | undefined;
        if (!handler) throw new Error(`no handler for socket command ${event}`);
        if (registered.some(([e]) => e === event)) throw new Error(`socket command ${event} registered twice`);
        registered.push([event, (socket, args) => dispatch(event, spec, handler, socket, args)]);
        known.add(event);
      }
    },
    snapshot(domain, provider) {
      snapshots.set(domain, provider);
    },
    broadcast(meetingId, event, data, opts) {
      const seq = (seqs.get(meetingId) ?? 0) + 1;
      seqs.set(meetingId, seq);
      const push: Push<typeof data> = { meetingId, epoch, seq, data };
      const members = io.sockets.adapter.rooms.get(room(meetingId));
      if (!members?.size) return;
      const queue = outbox.get(meetingId);
      if (!queue && members.size <= hubOptions.broadcastSlice) {
        io.to(room(meetingId)).emit(event, push);
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
    online: (meetingId) => new Set(presence.get(meetingId)?.keys() ?? []),
    onPresence(fn) {
      presenceListeners.push(fn);
    },
    async close() {
      ctx.bus.off('session:ended', onSessionEnded);
      ctx.bus.off('meeting:changed', onMeetingChanged);
      outbox.clear();
      for (const p of presencePending.values()) if (p.timer) clearTimeout(p.timer);
      presencePending.clear();
      io.disconnectSockets(true);
      await new Promise<void>((r) => io.close(() => r()));
    },
  };

  function track(meetingId: number, userId: number, delta: 1 | -1) {
    let users = presence.get(meetingId);
    if (!users) presence.set(meetingId, (users = new Map()));
    const before = users.get(userId) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) users.delete(userId);
    else users.set(userId, after);
    if ((before === 0) !== (after === 0)) {
      const online = after > 0;
      queuePresence(meetingId, userId, online);
      ctx.bus.emit('presence:changed', { meetingId, userId, online });
      for (const fn of presenceListeners) fn(meetingId, userId, online);
    }
  }

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
    hub.broadcast(meetingId, 'presence:changed', { changes });
  }

  /** The one wrapper every command goes through. */
  async function dispatch(event: string, spec: CommandSpec, handler: CommandHandler<CommandSpec>, socket: Socket, args: unknown[]) {
    const last = args.at(-1);
    const respond = typeof last === 'function' ? (last as (a: Ack<unknown>) => void) : () => {};
    const raw = typeof last === 'function' ? args.slice(0, -1)[0] : args[0];
    const sd = socket.data as SocketData;
    const { user } = sd;
    // Created on first use: most commands log nothing, and a child logger per command is not free.
    let childLog: Logger | undefined;
    const slog = () => (childLog ??= log.child({ socketId: socket.id, userId: user.id, event }));

    // The handshake's session may have ended since (logout, expiry, deactivation): check it again now and then.
    if (Date.now() - sd.checkedAt >= hubOptions.sessionRecheckMs) {
      if (!authenticateCookie(db, sd.cookie, config.mfaRequiredRoles)) {
        respond(fail('unauthenticated', 'Your session has ended; sign in again'));
        socket.disconnect(true);
        return;
      }
      sd.checkedAt = Date.now();
    }

    try {
      await limiter.consume(socket.id);
    } catch {
      slog().warn('socket rate limited');
      return respond(fail('rate_limited', 'Too many commands; slow down'));
    }

    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return respond(fail('invalid_payload', 'The payload must be an object'));
    const { commandId: rawId, ...body } = raw as Record<string, unknown>;
    let commandId: string | undefined;
    if (rawId !== undefined) {
      const id = CommandId.safeParse(rawId);
      if (!id.success) return respond(fail('invalid_payload', 'commandId: must be 8–64 URL-safe characters'));
      commandId = id.data;
    }
    const parsed = spec.payload.safeParse(body);
    if (!parsed.success) return respond(fail('invalid_payload', describe(parsed.error)));

    const key = commandId ? `${user.id}:${commandId}` : null;
    if (key) {
      const pending = memAcks.get(key);
      if (pending) return respond(await pending);
      if (spec.authoritative) {
        const stored = findCommandAck(db, user.id, commandId!);
        if (stored) return respond(stored as Ack<unknown>);
      }
    }

    let recorded = false;
    const c: CommandContext = {
      user,
      socket,
      get log() {
        return slog();
      },
      ctx,
      hub,
      access: (meetingId) => meetingAccess(db, user, meetingId),
      tx(fn) {
        return tx(db, (d) => {
          const result = fn(d);
          if (spec.authoritative && commandId) {
            saveCommandAck(d, user.id, commandId, event, { ok: true, data: result ?? null });
            recorded = true;
          }
          return result;
        });
      },
    };
    const run = (async (): Promise<Ack<unknown>> => {
      try {
        const data = await handler(parsed.data, c);
        const ack: Ack<unknown> = { ok: true, data: data ?? null };
        if (spec.authoritative && commandId && !recorded) saveCommandAck(db, user.id, commandId, event, ack);
        return ack;
      } catch (err) {
        if (err instanceof AppError) {
          slog().info({ code: err.code }, 'command refused');
          return fail(err.code, err.message);
        }
        slog().error({ err }, 'command failed');
        return fail('internal', 'Internal error');
      }
    })();
    if (key) remember(key, run);
    const ack = await run;
    if (key && !ack.ok && UNCACHED_ERRORS.has(ack.error.code)) memAcks.delete(key);
    respond(ack);
  }

  function remember(key: string, p: Promise<Ack<unknown>>) {
    memAcks.set(key, p);
    if (memAcks.size > hubOptions.memoryAckCache) memAcks.delete(memAcks.keys().next().value!);
  }

  hub.commands(REALTIME_COMMANDS, {
    'meeting:join': ({ meetingId }, c) => {
      const a = c.access(meetingId);
      const data = c.socket.data as SocketData;
      if (!data.meetings.has(meetingId)) {
        data.meetings.add(meetingId);
        c.socket.join(room(meetingId));
        track(meetingId, c.user.id, 1);
      }
      const snapshot: Record<string, unknown> = {};
      for (const [domain, provider] of snapshots) snapshot[domain] = provider(meetingId, a, c.user);
      return {
        meetingId,
        userId: c.user.id,
        epoch,
        seq: hub.seq(meetingId),
        serverTime: Date.now(),
        access: { role: a.role, canVote: a.canVote, canManage: a.canManage, canChair: a.canChair },
        snapshot,
      };
    },
    'meeting:leave': ({ meetingId }, c) => {
      const data = c.socket.data as SocketData;
      if (data.meetings.delete(meetingId)) {
        c.socket.leave(room(meetingId));
        track(meetingId, c.user.id, -1);
      }
      return { meetingId };
    },
    'clock:sync': () => ({ serverTime: Date.now() }),
  });
  for (const register of domains) register(hub);

  // A logout, a deactivation or a password reset closes the sockets of the ended sessions at once:
  // pushes must not keep reaching a tablet whose user signed out.
  const onSessionEnded = (e: { tokenHash: string } | { userId: number }) => {
    if ('userId' in e) io.in(userRoom(e.userId)).disconnectSockets(true);
    else for (const socket of io.sockets.sockets.values()) if ((socket.data as SocketData).tokenHash === e.tokenHash) socket.disconnect(true);
  };
  ctx.bus.on('session:ended', onSessionEnded);

  // Membership changes take effect at once: after a meeting changed (participants removed, unpublished,
  // cancelled), every socket in its room whose user may no longer see it leaves the room — on every
  // connection they have — and is told so; no later push of that meeting reaches it. Participants
  // removed by the change are told on their other sockets too (a tablet showing one of the meeting's
  // documents without having joined its room), so every open view of the meeting can leave it.
  const onMeetingChanged = ({ meetingId, removedUserIds = [] }: { meetingId: number; removedUserIds?: number[] }) => {
    const members = io.sockets.adapter.rooms.get(room(meetingId));
    const allowed = new Map<number, boolean>();
    const told = new Set<string>();
    const revoked = { meetingId, epoch, seq: null, data: { meetingId } };
    for (const userId of removedUserIds) {
      const sockets = io.sockets.adapter.rooms.get(userRoom(userId));
      if (!sockets?.size) continue;
      const first = io.sockets.sockets.get([...sockets][0]);
      if (!first) continue;
      try {
        meetingAccess(db, (first.data as SocketData).user, meetingId);
        allowed.set(userId, true);
        continue;
      } catch {
        allowed.set(userId, false);
      }
      for (const id of [...sockets]) {
        const socket = io.sockets.sockets.get(id);
        if (!socket) continue;
        const data = socket.data as SocketData;
        socket.leave(room(meetingId));
        if (data.meetings.delete(meetingId)) track(meetingId, data.user.id, -1);
        socket.emit('meeting:access_revoked', revoked);
        told.add(id);
      }
    }
    if (!members?.size) return;
    for (const id of [...members]) {
      if (told.has(id)) continue;
      const socket = io.sockets.sockets.get(id);
      if (!socket) continue;
      const data = socket.data as SocketData;
      let ok = allowed.get(data.user.id);
      if (ok === undefined) {
        try {
          meetingAccess(db, data.user, meetingId);
          ok = true;
        } catch {
          ok = false;
        }
        allowed.set(data.user.id, ok);
      }
      if (ok) continue;
      socket.leave(room(meetingId));
      if (data.meetings.delete(meetingId)) track(meetingId, data.user.id, -1);
      socket.emit('meeting:access_revoked', revoked);
    }
  };
  ctx.bus.on('meeting:changed', onMeetingChanged);

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    socket.join(userRoom(data.user.id));
    log.debug({ socketId: socket.id, userId: data.user.id }, 'socket connected');
    for (const [event, fn] of registered) socket.on(event, (...args: unknown[]) => void fn(socket, args));
    // An event nobody registered gets a clear answer instead of a client-side timeout.
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = args.at(-1);
      if (!known.has(event) && typeof ack === 'function') ack(fail('unknown_event', `No such command: ${String(event).slice(0, 64)}`));
    });
    socket.on('disconnect', () => {
      data.lease.release();
      for (const m of data.meetings) track(m, data.user.id, -1);
      data.meetings.clear();
      limiter.delete(socket.id).catch(() => {});
    });
  });

  return hub;
}

const room = (meetingId: number) => `meeting:${meetingId}`;
const userRoom = (userId: number) => `user:${userId}`;

/** A failed acknowledgement; a code outside the closed list (a bug) leaves as `internal`. */
function fail(code: ErrorCode, message: string): Ack<never> {
  if (!isErrorCode(code)) return { ok: false, error: { code: 'internal', message: 'Internal error' } };
  return { ok: false, error: { code, message } };
}

function connectError(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(message), { data: { code, message } });
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
}
