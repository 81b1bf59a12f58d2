import type { ServerModule } from '../context.js';
import { documentRoutes, recoverDocumentFiles } from './documents.routes.js';

/** PDF documents of the meeting pack: upload, inspection, serving, watermarking, access; stored files recovered at start. */
export const documentsModule: ServerModule = { name: 'documents', register: documentRoutes, start: recoverDocumentFiles };
