import type { ServerModule } from '../context.js';
import { archiveRoutes } from './archive.routes.js';
import type { ArchiveProgress } from './archive.service.js';

declare module '../context.js' {
  interface DomainServices {
    /** Progress of the archives being built in this process, for their status view. */
    archiveProgress?: ArchiveProgress;
  }
}

/** Archival packages of closed meetings (a durable job builds the zip). */
export const archiveModule: ServerModule = { name: 'archive', register: archiveRoutes };
