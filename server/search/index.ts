import type { ServerModule } from '../context.js';
import { searchRoutes } from './search.routes.js';

/** Full-text search (FTS5) over agendas, documents and minutes; indexes on bus events. */
export const searchModule: ServerModule = { name: 'search', register: searchRoutes };
