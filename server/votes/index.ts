import type { ServerModule } from '../context.js';
import { voteRoutes } from './votes.routes.js';
import { votesSocket } from './votes.socket.js';

/** Votes and ballots: REST exports and records, Socket.IO commands, timers. */
export const votesModule: ServerModule = { name: 'votes', register: voteRoutes, socket: votesSocket };
