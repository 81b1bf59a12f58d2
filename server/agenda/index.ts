import type { ServerModule } from '../context.js';
import { agendaRoutes } from './agenda.routes.js';

/** The agenda tree (REST, optimistic concurrency). */
export const agendaModule: ServerModule = { name: 'agenda', register: agendaRoutes };
