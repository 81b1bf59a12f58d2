import { z } from 'zod';
import type { Ack } from './common.js';
import { ID_PATTERN, Id } from './common.js';

/**
 * Version of the Socket.IO protocol. The client sends it in the handshake (`auth.protocolVersion`);
 * the server refuses a different one with the connect error `protocol_mismatch`, so an old tablet
 * reloads instead of speaking a protocol the server no longer understands.
 */
export const PROTOCOL_VERSION = 1;

/** Path of the Socket.IO endpoint on the HTTP server. */
export const SOCKET_PATH = '/socket.io';

/**
 * Query parameter of the Socket.IO handshake and of Yjs WebSocket URLs naming the meeting the connection is
 * for: with several nodes, HAProxy hashes it to the node serving that meeting (docs/DEPLOY.md). Optional; a
 * page without a meeting connects without it.
 */
export const ROUTING_PARAM = 'meeting';

/**
 * Query parameter naming the node a `not_owner` answer said owns the meeting: HAProxy sends the handshake to that
 * node while it is up, ahead of the hash (scripts/cluster-haproxy.ts). Read by HAProxy only; the server ignores it.
 */
export const OWNER_HINT_PARAM = 'node';

/**
 * The routing parameter as received: absent (`null`), a meeting id, or `'invalid'` (not exactly one strict id:
 * digits, no sign, no leading zero, no repetition), which the server refuses.
 */
export function routedMeeting(value: string | string[] | null | undefined): number | null | 'invalid' {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) return 'invalid';
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : 'invalid';
}

/**
 * A client-generated id that makes a command idempotent: the server applies a command with a given
 * id once and answers every retry with the first acknowledgement. URL-safe, 8–64 characters
 * (a UUID fits). Sent as the `commandId` field of the payload object, next to the command's own fields.
 */
export const CommandId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be URL-safe');

/**
 * One client → server command of the protocol table.
 * - `payload`: the zod schema of the payload (without `commandId`, which the wrapper strips first).
 * - `ack`: the zod schema of the acknowledgement's `data` (documentation and client typing; the
 *   server does not re-validate its own answers).
 * - `authoritative`: the command changes authoritative state. Its `commandId` and acknowledgement are
 *   recorded in the database in the transaction of its change, so a retry after a server restart, or on
 *   another node sharing the database, is still applied once (docs/PROTOCOL.md, "Command ids").
 * - `idempotent`: the client may resend it automatically after a reconnect (same `commandId`). Only
 *   commands whose retry is harmless (deduplicated by id, or naturally idempotent) may set it.
 */
export interface CommandSpec<P extends z.ZodType = z.ZodType, A extends z.ZodType = z.ZodType> {
  payload: P;
  ack: A;
  authoritative?: boolean;
  idempotent?: boolean;
}

/** Declares a command; the identity function, for inference. */
export const command = <P extends z.ZodType, A extends z.ZodType>(spec: CommandSpec<P, A>): CommandSpec<P, A> => spec;

/** A table of commands: event name (`domain:verb`) → spec. */
export type CommandTable = Record<string, CommandSpec>;

/** A table of server pushes: event name (past tense, `domain:verbed`) → schema of its `data`. */
export type PushTable = Record<string, z.ZodType>;

/** What a handler receives: the parsed payload. */
export type CommandPayload<C extends CommandSpec> = z.output<C['payload']>;
/** What a client sends: the payload's input type plus the optional `commandId`. */
export type CommandInput<C extends CommandSpec> = z.input<C['payload']> & { commandId?: string };
/** The `data` of a successful acknowledgement. */
export type CommandResult<C extends CommandSpec> = z.output<C['ack']>;

/**
 * Every server push to a meeting room has this envelope. `seq` increases by one per push in the
 * meeting within one server run (`epoch`); a client that sees a gap (`seq` > last + 1) or another
 * epoch re-joins and takes the full snapshot, so it never misses or double-applies a change.
 * Pushes to one user only (`toUser`) carry `seq: null`.
 */
export interface Push<T> {
  meetingId: number | null;
  epoch: string;
  seq: number | null;
  data: T;
}

/** Socket.IO's `ClientToServerEvents` derived from a command table. */
export type ClientToServerEvents<T extends CommandTable> = {
  [K in keyof T & string]: (payload: CommandInput<T[K]>, ack: (a: Ack<CommandResult<T[K]>>) => void) => void;
};

/** Socket.IO's `ServerToClientEvents` derived from a push table. */
export type ServerToClientEvents<T extends PushTable> = {
  [K in keyof T & string]: (push: Push<z.output<T[K]>>) => void;
};

// ---------------------------------------------------------------------------------------------
// The hub's own commands and pushes (every domain's come in its own shared/protocol/<domain>.ts).

export const JoinMeetingPayload = z.strictObject({ meetingId: Id });

/** What the caller may do in the meeting, as computed by meetingAccess on the server. */
export const MeetingAccessInfo = z.object({
  role: z.enum(['chair', 'secretary', 'member', 'guest']).nullable(),
  canVote: z.boolean(),
  canManage: z.boolean(),
  canChair: z.boolean(),
});
export type MeetingAccessInfo = z.infer<typeof MeetingAccessInfo>;

/**
 * Ack of `meeting:join`: the room's current `epoch`/`seq` and every domain's full snapshot
 * (`snapshot[domain]`), consistent with that `seq`. Pushes with `seq` ≤ this one are already included.
 */
export const JoinMeetingAck = z.object({
  meetingId: z.number(),
  userId: z.number(),
  epoch: z.string(),
  seq: z.number(),
  serverTime: z.number(),
  access: MeetingAccessInfo,
  snapshot: z.record(z.string(), z.unknown()),
});
export type JoinMeetingAck = z.infer<typeof JoinMeetingAck>;

export const REALTIME_COMMANDS = {
  /** Join the meeting's room (`meeting:<id>`): receive its pushes and get every domain's snapshot. */
  'meeting:join': command({ payload: JoinMeetingPayload, ack: JoinMeetingAck, idempotent: true }),
  /** Leave the meeting's room. */
  'meeting:leave': command({ payload: JoinMeetingPayload, ack: z.object({ meetingId: z.number() }), idempotent: true }),
  /** Server clock, for timers: offset ≈ serverTime − (sent + received) / 2. */
  'clock:sync': command({ payload: z.strictObject({}), ack: z.object({ serverTime: z.number() }), idempotent: true }),
};

export const REALTIME_PUSHES = {
  /**
   * Participants' presence in the meeting room changed (first socket joined / last one left):
   * coalesced, at most one push per `presenceCoalesceMs` (250 ms) per meeting, latest state per user.
   */
  'presence:changed': z.object({ changes: z.array(z.object({ userId: z.number(), online: z.boolean() })) }),
  /**
   * To one socket: it was taken out of the meeting's room because its user may no longer see the
   * meeting (removed from the participants, meeting unpublished or cancelled). No further push of that
   * meeting reaches it; a `meeting:join` now fails with `not_found`.
   */
  'meeting:access_revoked': z.object({ meetingId: z.number() }),
  /** To one user: an in-app notification for them was created (the bell refreshes its list over REST). */
  'notifications:new': z.object({ kind: z.string() }),
};
