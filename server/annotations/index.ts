import type { ServerModule } from '../context.js';
import type { AnnotationLayers } from './annotations.docs.js';
import { annotationRoutes, carryAnnotations } from './annotations.routes.js';
import type { AnnotationProjection } from './annotations.service.js';

declare module '../context.js' {
  interface DomainServices {
    /** The app's annotation layers (Yjs kinds, guard, carry-over) and their projection into `annotation_items`. */
    annotations?: { layers: AnnotationLayers; projection: AnnotationProjection };
  }
}

/** Private and shared annotation layers (Yjs kinds), their projection, annotated copies. */
export const annotationsModule: ServerModule = { name: 'annotations', register: annotationRoutes, start: carryAnnotations };
