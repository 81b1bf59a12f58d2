import type { ServerModule } from '../context.js';
import { archiveRoutes } from './archive.routes.js';

/** Archival packages of closed meetings (a durable job builds the zip). */
export const archiveModule: ServerModule = { name: 'archive', register: archiveRoutes };
