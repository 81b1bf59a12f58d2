import type { ServerModule } from '../context.js';
import { committeeRoutes } from './committees.routes.js';

/** Committees with their default roles, rooms (admin). */
export const committeesModule: ServerModule = { name: 'committees', register: committeeRoutes };
