import type { ServerModule } from '../context.js';
import { voteRoutes } from './votes.routes.js';
import { VotesService, votesOf } from './votes.service.js';
import { votesSocket } from './votes.socket.js';

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
  start: async (ctx) => {
    await votesOf(ctx).resumeTimers();
    return { stop: () => votesOf(ctx).drain() };
  },
};
