import type { ServerModule } from '../context.js';
import { refreshOpenMinutes } from './minutes.attachment.js';
import { minutesRoutes } from './minutes.routes.js';

/** Collaborative minutes (Yjs kind + generated sections), PDF, finalize and sign. */
export const minutesModule: ServerModule = { name: 'minutes', register: minutesRoutes, start: refreshOpenMinutes };
