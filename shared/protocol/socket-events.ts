import type { z } from 'zod';
import { REALTIME_COMMANDS, REALTIME_PUSHES, type ClientToServerEvents, type ServerToClientEvents } from './realtime.js';
import { LIVE_COMMANDS, LIVE_PUSHES } from './live.js';
import { VOTE_COMMANDS, VOTE_PUSHES } from './votes.js';
import { AV_COMMANDS, AV_PUSHES } from './av.js';

/**
 * The whole Socket.IO protocol in one place: every command and every push of every domain.
 * A domain declares its tables in `shared/protocol/<domain>.ts` and spreads them in here (one line
 * each); the typed event maps for socket.io's generics, the client service and docs/PROTOCOL.md
 * follow from it.
 */
export const COMMANDS = {
  ...REALTIME_COMMANDS,
  ...LIVE_COMMANDS,
  ...VOTE_COMMANDS,
  ...AV_COMMANDS,
};

export const PUSHES = {
  ...REALTIME_PUSHES,
  ...LIVE_PUSHES,
  ...VOTE_PUSHES,
  ...AV_PUSHES,
};

export type Commands = typeof COMMANDS;
export type Pushes = typeof PUSHES;
export type CommandName = keyof Commands & string;
export type PushName = keyof Pushes & string;
/** The payload of one push, as the server builds it (before `seq` is stamped). Broadcasts accept only these. */
export type PushData<E extends PushName> = z.input<Pushes[E]>;
export type C2S = ClientToServerEvents<Commands>;
export type S2C = ServerToClientEvents<Pushes>;
