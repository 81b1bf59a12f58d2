import type { Socket } from 'socket.io';
import type { PushData, PushName } from '../../shared/protocol/socket-events.js';
import type { Ack } from '../../shared/protocol/common.js';
import { type ErrorCode, isErrorCode } from '../../shared/protocol/errors.js';
import type { CommandPayload, CommandResult, CommandSpec, CommandTable } from '../../shared/protocol/realtime.js';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import type { AuthUser } from '../auth/sessions.js';
import type { MeetingOwnership } from '../cluster/cluster.service.js';
import type { Config } from '../config.js';
import type { Q, Store } from '../db/store.js';
import type { Lease } from '../http/connection-caps.js';
import type { Logger } from '../log.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import type { EventBus } from '../events.js';

/**
 * The Socket.IO hub's vocabulary, shared by its parts (hub.ts wires them): tunables, the types a
 * domain's socket handlers see, what each socket carries, room names and acknowledgement helpers.
 */

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
  access(meetingId: number): Promise<MeetingAccess>;
  /**
   * Runs `fn` in one transaction (`ctx.store.tx`) and, for an authoritative command with a `commandId`,
   * records the command and its successful acknowledgement (`fn`'s return value) in the same transaction
   * (server/realtime/commands.repo.ts `commandTx`, which a service may call itself with the acknowledgement
   * it computes in its transaction): a retry — after a crash, on another node — is then answered the original
   * acknowledgement without applying it twice. Return the value `tx` returned from the handler. `fn` queries
   * through `q` (the transaction's builder; `ctx.store.q` is the same in its call chain).
   */
  tx<T>(fn: (q: Q) => Promise<T>): Promise<T>;
  /**
   * For a handler that commits its work in a transaction of its own (the vote ballot batch): who and what
   * to record the acknowledgement under, so the handler writes it in that transaction (`saveCommandAcks*`,
   * server/realtime/commands.repo.ts) with the `{ ok: true, data }` it resolves with. Taking it means the
   * command's transactions record nothing (`commandTx` is a plain transaction). Undefined: nothing to record
   * (not authoritative, no commandId, or already recorded).
   */
  takeAck(): { userId: number; commandId: string; event: string } | undefined;
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
   * Cluster mode with `REDIS_URL`: a Redis connection for plain commands that fails at once while Redis is
   * unreachable (the login limiter counts there, server/auth/login-throttle.ts); null otherwise.
   */
  redis: Redis | null;
  /**
   * Registers the handlers of a command table through the one wrapper: validation, rate limit,
   * dedupe by `commandId`, error funnel, logging. `opts.checksOwnRetry`: authoritative commands whose handler
   * looks its `commandId` up itself, in the statement that writes its effect (the ballot batch: on PostgreSQL
   * the wrapper's look-up before the handler was a round trip in every ballot's wait): the wrapper skips that
   * look-up. As for every authoritative command, a refusal is still answered with a recorded acknowledgement if
   * there is one (hub.commands.ts).
   */
  commands<T extends CommandTable>(table: T, handlers: Handlers<T>, opts?: { checksOwnRetry?: readonly (keyof T & string)[] }): void;
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
  /**
   * Pushes `data` to every socket of one user (not sequenced), e.g. a private confirmation; in cluster mode with
   * Redis on every node.
   */
  toUser<E extends PushName>(userId: number, event: E, data: PushData<E>): void;
  /** The current `seq` of a meeting room in this epoch. */
  seq(meetingId: number): number;
  /** Users with at least one socket joined to the meeting room. */
  online(meetingId: number): Set<number>;
  /** Called when a user's presence in a meeting room changes (also emitted on ctx.bus). */
  onPresence(fn: (meetingId: number, userId: number, online: boolean) => void): void;
}

/** What the hub keeps on each socket from its handshake (`socket.data`). */
export type SocketData = { user: AuthUser; tokenHash: string; meetings: Set<number>; cookie: string | undefined; checkedAt: number; lease: Lease };

/** What the hub needs of the app (server/context.ts `AppContext` has it all; the hub never imports it). */
export interface HubContext {
  store: Store;
  config: Config;
  log: Logger;
  bus: EventBus;
  /** Which meetings this node runs (several server nodes, #18); absent in an app without the cluster module. */
  ownership?: MeetingOwnership;
}

/** The Socket.IO room of a meeting's joined sockets. */
export const room = (meetingId: number) => `meeting:${meetingId}`;
/** The Socket.IO room of every socket of one user. */
export const userRoom = (userId: number) => `user:${userId}`;
/** The Socket.IO room of every socket of one session (by the SHA-256 of its token, as the sessions table keeps it). */
export const sessionRoom = (tokenHash: string) => `session:${tokenHash}`;

/** A failed acknowledgement; a code outside the closed list (a bug) leaves as `internal`. */
export function fail(code: ErrorCode, message: string, details?: unknown): Ack<never> {
  if (!isErrorCode(code)) return { ok: false, error: { code: 'internal', message: 'Internal error' } };
  return details === undefined ? { ok: false, error: { code, message } } : { ok: false, error: { code, message, details } };
}

/** A handshake refusal: the client's `connect_error` carries `{ code, message }`. */
export function connectError(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(message), { data: { code, message } });
}
