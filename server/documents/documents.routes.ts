import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { IdParams } from '../../shared/protocol/common.js';
import { PathId } from '../../shared/protocol/common.js';
import { DocumentInfo, FindQuery, FindResults, DocumentPageParams, DocumentParams, MeetingPack, MoveDocumentBody, PageText, UpdateDocumentBody, ItemDocumentsParams } from '../../shared/protocol/documents.js';
import type { AppContext } from '../context.js';
import { documents } from '../db/tables.js';
import { registerSearchKind, searchWithin } from '../search/search.service.js';
import { auditConfidential } from './documents.confidential.js';
import { documentAccess, loadConsultationDocumentIds, loadVisibleDocumentIds } from './documents.access.js';
import { type DocumentsDeps, downloadFile, loadDocumentInfo, loadMeetingPack, moveDocument, pageText, removeDocument, replaceDocument, serveFile, updateDocument, uploadDocument } from './documents.service.js';
import { fileOwner } from '../files/file-store.js';
import { FileStore } from './documents.storage.js';
import { pdfPool } from './pdf.pool.js';

registerSearchKind('document', (store, user, refIds) => loadVisibleDocumentIds(store, user, refIds, { consultations: true }), {
  grants: ({ store }, user) => loadConsultationDocumentIds(store, user.id),
  // Snippets of a confidential document's text are an access to it: audited like its page text.
  served: async (ctx, user, hits) => {
    const ids = hits.map((h) => h.refId);
    const rows = await ctx.store.q.select({ id: documents.id }).from(documents).where(and(inArray(documents.id, ids), eq(documents.access, 'confidential')));
    const confidential = new Set(rows.map((r) => r.id));
    for (const h of hits) {
      if (confidential.has(h.refId)) await auditConfidential(ctx, user, await documentAccess(ctx.store, user, h.refId, { consultations: true }), 'search', { pages: h.pages.map((p) => p.page) });
    }
  },
});

const FileQuery = z.strictObject({ version: PathId.optional() });
const UPLOAD_DOC = 'multipart/form-data: optional text fields `title`, `access` (all | named | confidential), `viewerIds` (comma-separated), `published` (true | false), then one part `file` (a PDF)';

/** At start, before the server listens: finishes or removes uploads a crash interrupted (`FileStore.recover`). */
export async function recoverDocumentFiles(ctx: AppContext): Promise<void> {
  await new FileStore(ctx.config.dataDir, fileOwner(ctx.config)).recover(ctx.store, ctx.log);
}

/** Meeting documents: upload, versions, access, serving with ranges, watermarked downloads, the meeting pack. */
export function documentRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const store = new FileStore(ctx.config.dataDir, fileOwner(ctx.config));
  const deps: DocumentsDeps = { ctx, store, pool: pdfPool(ctx.config) };
  const tags = ['documents'];

  api.route(
    { method: 'get', path: '/api/meetings/:id/documents', summary: 'The meeting pack: agenda items in order with the documents the caller may see', tags, access: 'user', params: IdParams, response: MeetingPack },
    ({ user, params }) => loadMeetingPack(ctx, user, params.id),
  );
  api.route(
    {
      method: 'post',
      path: '/api/meetings/:id/agenda/items/:itemId/documents',
      summary: 'Upload one PDF to an agenda item (meeting secretary)',
      tags,
      access: 'user',
      params: ItemDocumentsParams,
      body: z.any(),
      bodyType: 'raw',
      rawContentType: 'multipart/form-data',
      response: DocumentInfo,
      status: 201,
    },
    ({ user, params, req, res }) => uploadDocument(deps, user, params.id, params.itemId, req, res),
  );
  api.route(
    { method: 'get', path: '/api/documents/:id', summary: 'A document, its versions and what the caller may do with it', tags, access: 'user', params: DocumentParams, response: DocumentInfo },
    async ({ user, params }) => {
      const a = await documentAccess(ctx.store, user, params.id, { consultations: true });
      await auditConfidential(ctx, user, a, 'open');
      return loadDocumentInfo(ctx.store, a);
    },
  );
  api.route(
    { method: 'patch', path: '/api/documents/:id', summary: 'Rename, set access, named viewers or publication (meeting secretary)', tags, access: 'user', params: DocumentParams, body: UpdateDocumentBody, response: DocumentInfo },
    ({ user, params, body }) => updateDocument(ctx, user, params.id, body),
  );
  api.route(
    { method: 'post', path: '/api/documents/:id/move', summary: "Reorder among the agenda item's documents (meeting secretary)", tags, access: 'user', params: DocumentParams, body: MoveDocumentBody, response: DocumentInfo },
    ({ user, params, body }) => moveDocument(ctx, user, params.id, body),
  );
  api.route(
    {
      method: 'post',
      path: '/api/documents/:id/versions',
      summary: 'Replace the file with a new version; older versions stay listed (meeting secretary)',
      tags,
      access: 'user',
      params: DocumentParams,
      body: z.any(),
      bodyType: 'raw',
      rawContentType: 'multipart/form-data',
      response: DocumentInfo,
      status: 201,
    },
    ({ user, params, req, res }) => replaceDocument(deps, user, params.id, req, res),
  );
  api.route(
    { method: 'delete', path: '/api/documents/:id', summary: 'Remove a document (meeting secretary)', tags, access: 'user', params: DocumentParams, noContent: true },
    ({ user, params }) => removeDocument(ctx, user, params.id),
  );
  api.route(
    {
      method: 'get',
      path: '/api/documents/:id/file',
      summary: 'The PDF for the viewer (current or `?version=` id), with Range, ETag and private caching; authorized on every request',
      tags,
      access: 'user',
      params: DocumentParams,
      query: FileQuery,
      responseContentType: 'application/pdf',
    },
    ({ user, params, query, req, res }) => serveFile(deps, user, params.id, query.version, req, res),
  );
  api.route(
    {
      method: 'get',
      path: '/api/documents/:id/download',
      heavy: true,
      summary: "A downloaded copy stamped with the downloader's name, unit and time (403 download_forbidden for confidential documents)",
      tags,
      access: 'user',
      params: DocumentParams,
      responseContentType: 'application/pdf',
    },
    ({ user, params, res }) => downloadFile(deps, user, params.id, res),
  );
  api.route(
    { method: 'get', path: '/api/documents/:id/pages/:page/text', summary: 'Extracted text of one page', tags, access: 'user', params: DocumentPageParams, response: PageText },
    ({ user, params }) => pageText(ctx, user, params.id, params.page),
  );
  api.route(
    { method: 'get', path: '/api/documents/:id/find', summary: 'Find in document: pages whose text matches the query, with or without diacritics', tags, access: 'user', params: DocumentParams, query: FindQuery, response: FindResults },
    async ({ user, params, query }) => {
      const a = await documentAccess(ctx.store, user, params.id, { consultations: true });
      await auditConfidential(ctx, user, a, 'find');
      return { query: query.q, ...(await searchWithin(ctx.store, 'document', params.id, query.q)) };
    },
  );
}
