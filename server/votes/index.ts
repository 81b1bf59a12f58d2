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
  // Before the hub and the database close: the ballots still queued are committed.
  start: (ctx) => ({ stop: () => votesOf(ctx).drain() }),
};
