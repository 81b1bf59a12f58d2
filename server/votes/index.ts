import { ownershipOf } from '../cluster/cluster.service.js';
import type { ServerModule } from '../context.js';
import { voteRoutes } from './votes.routes.js';
import { VotesService, votesOf } from './votes.service.js';
import { votesSocket } from './votes.socket.js';
import { sweepOrphanedDeadlines } from './votes.timers.js';

declare module '../context.js' {
  interface DomainServices {
    /** The app's one votes service (server/votes/votes.service.ts); `votesOf(ctx)` reads it. */
    votes?: VotesService;
  }
}

/** Votes and ballots: REST exports and records, Socket.IO commands, timers. */
export const votesModule: ServerModule = {
  name: 'votes',
  register(ctx) {
    ctx.votes = new VotesService(ctx);
    voteRoutes(ctx);
  },
  socket: votesSocket,
  // Deadlines first, awaited before the server listens: a vote whose deadline passed while the server was
  // down is closed before anyone can read it as open (on PostgreSQL the first /healthz came before a
  // fire-and-forget resume did). At shutdown, before the hub and the database close: the ballots still queued are committed.
  // In a cluster (#18) a node runs the timers of the meetings it owns only: it resumes a meeting's when it
  // becomes the owner (the same way, overdue votes closed once) and drops them when it loses the meeting;
  // a meeting whose owner died with a timed vote open is taken by the sweep, not only by a returning client.
  start: async (ctx) => {
    const votes = votesOf(ctx);
    const own = ownershipOf(ctx);
    let stopSweep = async () => {};
    if (own.enabled) {
      own.onAcquired((meetingId) => votes.resumeTimers(meetingId));
      own.onLost((meetingId) => votes.dropMeeting(meetingId));
      stopSweep = sweepOrphanedDeadlines(ctx, own, ctx.config.cluster.leaseMs);
    } else await votes.resumeTimers();
    return {
      stop: async () => {
        await stopSweep();
        await votes.drain();
      },
    };
  },
};
