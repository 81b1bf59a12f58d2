import type { ServerModule } from '../context.js';
import { annotationRoutes, carryAnnotations } from './annotations.routes.js';

/** Private and shared annotation layers (Yjs kinds), their projection, annotated copies. */
export const annotationsModule: ServerModule = { name: 'annotations', register: annotationRoutes, start: carryAnnotations };
