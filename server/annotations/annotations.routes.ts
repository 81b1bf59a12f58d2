import { z } from 'zod';
import { MyAnnotationsResponse } from '../../shared/protocol/annotations.js';
import { IdParams } from '../../shared/protocol/common.js';
import { PathId } from '../../shared/protocol/common.js';
import type { AppContext, Running } from '../context.js';
import { FileStore } from '../documents/documents.storage.js';
import { pdfPool } from '../documents/pdf.pool.js';
import { AnnotationLayers, annotationLayers } from './annotations.docs.js';
import { AnnotationProjection, annotatedCopy, myAnnotations } from './annotations.service.js';

/** The projection of an app's annotation layers (`ctx.annotations`, created with the routes). */
export function annotationProjection(ctx: Pick<AppContext, 'annotations'>): AnnotationProjection {
  if (!ctx.annotations) throw new Error('the annotations module is not registered');
  return ctx.annotations.projection;
}

/**
 * Annotations: creates the app's layers (which register the private and shared layer kinds with the
 * Yjs hub) and their projection into `annotation_items` (`ctx.annotations`), and serves "my annotations"
 * and "my annotated copy".
 */
export function annotationRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const layers = new AnnotationLayers(ctx);
  const projection = new AnnotationProjection(ctx.store, layers, ctx.log.child({ domain: 'annotations' }));
  ctx.annotations = { layers, projection };
  ctx.yjs.onChange(/^annotation:/, (name, ydoc, { final }) => projection.project(name, ydoc, { final }));
  const files = new FileStore(ctx.config.dataDir);
  const tags = ['annotations'];

  api.route(
    {
      method: 'get',
      path: '/api/meetings/:id/annotations/mine',
      summary: "The caller's own annotations across the meeting pack (current versions), each with its page",
      tags,
      access: 'user',
      params: IdParams,
      response: MyAnnotationsResponse,
    },
    async ({ user, params }) => ({ meetingId: params.id, annotations: await myAnnotations(ctx, layers, projection, user, params.id) }),
  );
  api.route(
    {
      method: 'get',
      path: '/api/documents/:id/annotations/copy',
      heavy: true,
      summary: "My annotated copy: the PDF with the caller's annotations flattened in, watermarked",
      tags,
      access: 'user',
      params: IdParams,
      query: z.strictObject({ version: PathId.optional() }),
      responseContentType: 'application/pdf',
    },
    ({ user, params, query, res }) => annotatedCopy({ ctx, layers, files, pool: pdfPool(ctx.config) }, user, params.id, query.version, res),
  );
}

/**
 * Carries annotations to new document versions as they are uploaded (bus `document:changed`) and
 * stops doing so when the server closes.
 */
export function carryAnnotations(ctx: AppContext): Running {
  const layers = annotationLayers(ctx);
  return {
    stop: async () => {
      layers.stop();
      // The hub's close runs the final hooks (which drain); anything still queued goes now.
      await annotationProjection(ctx).drain();
    },
  };
}
