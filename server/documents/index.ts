import type { ServerModule } from '../context.js';
import { documentRoutes } from './documents.routes.js';

/** PDF documents of the meeting pack: upload, inspection, serving, watermarking, access. */
export const documentsModule: ServerModule = { name: 'documents', register: documentRoutes };
