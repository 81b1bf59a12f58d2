import type { ServerModule } from '../context.js';
import { indexAtStart, searchRoutes } from './search.routes.js';

/** Full-text search (FTS5) over agendas, documents and minutes; indexes on bus events, and what is missing at start. */
export const searchModule: ServerModule = { name: 'search', register: searchRoutes, start: indexAtStart };
