import type { ErrorCode } from '../../shared/protocol/errors.js';
import { AppError } from '../http/errors.js';
import type { RealtimeHub } from '../realtime/hub.js';

/** The hub's typed pushes (only events of shared/protocol's push table, with their payloads); set by the socket domain (server/votes/votes.socket.ts). */
export type VotePublisher = Pick<RealtimeHub, 'broadcast' | 'toUser'>;

/** Tunables (benchmarks and tests may lower the interval). */
export const voteOptions = {
  /**
   * Progress pushes of one vote are at least this far apart (trailing: the first one goes out this
   * long after the first ballot), plus one at once when every eligible voter has voted.
   */
  progressIntervalMs: 500,
  /**
   * Durability of an acknowledged ballot. FULL (default): acknowledged only once the WAL holding it
   * is fsynced (group commit, on the thread pool), so it survives a power loss, not only a process
   * crash — what SQLite's `synchronous = FULL` gives, without stalling the loop. NORMAL: acknowledged
   * at commit (survives `kill -9`). See docs/VOTING.md.
   */
  ballotSync: 'FULL' as 'FULL' | 'NORMAL',
  /** The clock deadlines are checked against (tests move it forward instead of sleeping). */
  now: () => Date.now(),
};

/** A refusal of the vote service: a stable code, 409 unless told. */
export const voteError = (code: ErrorCode, message: string, status = 409) => new AppError(code, message, status);
