import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { and, asc, desc, eq, isNull, max } from 'drizzle-orm';
import type { Agenda } from '../../shared/protocol/agenda.js';
import type { DocumentInfo, MeetingPack, MoveDocumentBody, UpdateDocumentBody, UploadFields } from '../../shared/protocol/documents.js';
import { loadAgenda } from '../agenda/agenda.service.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Q, Store } from '../db/store.js';
import { agendaItems, documentPages, documentVersions, documentViewers, documents } from '../db/tables.js';
import { AppError, badRequest, notFound } from '../http/errors.js';
import { type MeetingAccess, requireManage, meetingAccess } from '../meetings/meetings.access.js';
import { participantIds } from '../meetings/meetings.service.js';
import { removeIndexed, replaceIndexed } from '../search/search.service.js';
import { type DocumentAccess, documentAccess, loadVisibleDocumentIds } from './documents.access.js';
import { auditConfidential, mustWatermark, viewOnlyCopy, viewOnlyLines } from './documents.confidential.js';
import { type FileStore, type ReceivedFile } from './documents.storage.js';
import type { InspectResult, PdfPool } from './pdf.pool.js';

/** What the document service needs besides the app context. */
export interface DocumentsDeps {
  ctx: AppContext;
  store: FileStore;
  pool: PdfPool;
}

type VersionRow = typeof documentVersions.$inferSelect;

const versionView = (v: VersionRow) => ({
  id: v.id,
  version: v.version,
  fileName: v.fileName,
  size: v.size,
  pageCount: v.pageCount,
  sha256: v.sha256,
  uploadedBy: v.uploadedBy,
  createdAt: v.createdAt,
});

type InfoAccess = Pick<DocumentAccess, 'document' | 'canDownload' | 'canManage'>;

/** The document as `a`'s caller may see it. */
export async function loadDocumentInfo(store: Store, a: InfoAccess): Promise<DocumentInfo> {
  const d = a.document;
  const versions = await store.q.select().from(documentVersions).where(eq(documentVersions.documentId, d.id)).orderBy(asc(documentVersions.version));
  const viewerIds = a.canManage ? await store.q.select({ u: documentViewers.userId }).from(documentViewers).where(eq(documentViewers.documentId, d.id)) : [];
  return infoOf(a, versions, viewerIds);
}

function infoOf(a: InfoAccess, versions: VersionRow[], viewers: { u: number }[]): DocumentInfo {
  const d = a.document;
  const current = versions.find((v) => v.id === d.currentVersionId) ?? versions.at(-1)!;
  const viewerIds = viewers.map((r) => r.u);
  return {
    id: d.id,
    meetingId: d.meetingId,
    agendaItemId: d.agendaItemId,
    title: d.title,
    position: d.position,
    access: d.access,
    published: d.published,
    canDownload: a.canDownload,
    canManage: a.canManage,
    offlineAllowed: d.offlineAllowed,
    canKeepOffline: mayKeepOffline(a),
    current: versionView(current),
    versions: versions.map(versionView),
    viewerIds,
    createdAt: d.createdAt,
  };
}

/**
 * The offline policy: a device may keep a copy of what its user may download, and of a confidential
 * (view-only) document only when the secretary allowed offline copies of it.
 */
export function mayKeepOffline(a: Pick<DocumentAccess, 'document' | 'canDownload'>): boolean {
  return a.canDownload || a.document.offlineAllowed;
}

/** The version whose bytes the caller asked for: the current one, or a listed older one. */
export async function loadVersionFor(store: Store, a: DocumentAccess, versionId?: number): Promise<VersionRow> {
  const id = versionId ?? a.document.currentVersionId;
  return listed(a, id ? (await store.q.select().from(documentVersions).where(eq(documentVersions.id, id)).limit(1))[0] : undefined);
}

function listed(a: DocumentAccess, v: VersionRow | undefined): VersionRow {
  if (!v || v.documentId !== a.document.id) throw notFound('Document version');
  return v;
}

async function parseViewerIds(store: Store, meetingId: number, ids: number[] | undefined): Promise<number[] | undefined> {
  if (ids === undefined) return undefined;
  const unique = [...new Set(ids)];
  const participants = new Set(await participantIds(store, meetingId));
  const strangers = unique.filter((id) => !participants.has(id));
  if (strangers.length) throw badRequest('Named viewers must be participants of the meeting', { userIds: strangers.slice(0, 20) });
  return unique;
}

async function setViewers(q: Q, documentId: number, ids: number[]): Promise<void> {
  await q.delete(documentViewers).where(eq(documentViewers.documentId, documentId));
  for (const userId of ids) await q.insert(documentViewers).values({ documentId, userId });
}

/** Re-indexes a document's current version (title + text per page) for search. Call inside the changing transaction. */
async function indexDocument(store: Store, documentId: number): Promise<void> {
  const [d] = await store.q.select().from(documents).where(eq(documents.id, documentId)).limit(1);
  if (!d || d.removedAt || !d.currentVersionId) return removeIndexed(store, 'document', [documentId]);
  const pages = await store.q.select().from(documentPages).where(eq(documentPages.versionId, d.currentVersionId)).orderBy(asc(documentPages.page));
  const withText = pages.filter((p) => p.text.trim()).map((p) => ({ meetingId: d.meetingId, page: p.page, title: d.title, body: p.text }));
  // A scanned document without a text layer is still found by its title.
  await replaceIndexed(store, 'document', documentId, withText.length ? withText : [{ meetingId: d.meetingId, page: null, title: d.title, body: '' }]);
}

async function insertVersion(q: Q, documentId: number, version: number, file: ReceivedFile, info: InspectResult, userId: number): Promise<number> {
  const [v] = await q
    .insert(documentVersions)
    .values({ documentId, version, sha256: file.sha256, fileName: file.fileName, size: file.size, pageCount: info.pageCount, uploadedBy: userId })
    .returning({ id: documentVersions.id });
  for (const [i, text] of info.pages.entries()) await q.insert(documentPages).values({ versionId: v.id, page: i + 1, text });
  return v.id;
}

/**
 * Receives, checks and inspects an uploaded PDF, then calls `commit` in one transaction and
 * moves the file into place only after it committed. Anything refused leaves nothing behind.
 */
async function receiveAndStore<T>(deps: DocumentsDeps, req: Request, res: Response, commit: (q: Q, file: ReceivedFile, info: InspectResult, fields: UploadFields) => Promise<T>): Promise<T> {
  const { ctx, store, pool } = deps;
  const received = await store.receive(req, ctx.config.documents.maxBytes);
  let file = received.file;
  try {
    const info = await pool.inspect(file.tmpPath);
    if (info.rewritten) file = store.replaceContent(file, info.rewritten);
    const result = await ctx.store.tx((q) => commit(q, file, info, received.fields));
    store.commit(file);
    return result;
  } catch (err) {
    store.discard(file);
    throw err;
  }
}

/**
 * Uploads one PDF (multipart, one `file` part) to an agenda item. Managers only.
 * @throws AppError 404 (meeting/item not visible), 403, 413 payload_too_large, 415 not_a_pdf, 422 invalid_pdf | pdf_encrypted | pdf_too_complex
 */
export async function uploadDocument(deps: DocumentsDeps, user: AuthUser, meetingId: number, itemId: number, req: Request, res: Response): Promise<DocumentInfo> {
  const { store } = deps.ctx;
  await requireManage(store, user, meetingId);
  const [item] = await store.q.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId))).limit(1);
  if (!item) throw notFound('Agenda item');
  const id = await receiveAndStore(deps, req, res, async (q, file, info, fields) => {
    // Re-check after the awaits: the item or the caller's rights may have changed meanwhile.
    await requireManage(store, user, meetingId);
    const [still] = await q.select({ id: agendaItems.id }).from(agendaItems).where(eq(agendaItems.id, itemId)).limit(1);
    if (!still) throw notFound('Agenda item');
    const viewers = await parseViewerIds(store, meetingId, fields.viewerIds ? fields.viewerIds.split(',').map(Number) : undefined);
    const [pos] = await q
      .select({ p: max(documents.position) })
      .from(documents)
      .where(and(eq(documents.agendaItemId, itemId), isNull(documents.removedAt)));
    const title = fields.title ?? (file.fileName.replace(/\.pdf$/i, '').trim() || 'Tài liệu');
    const [doc] = await q
      .insert(documents)
      .values({
        meetingId,
        agendaItemId: itemId,
        title,
        position: (pos?.p ?? -1) + 1,
        access: fields.access ?? 'all',
        published: fields.published !== 'false',
        createdBy: user.id,
      })
      .returning({ id: documents.id });
    const versionId = await insertVersion(q, doc.id, 1, file, info, user.id);
    await q.update(documents).set({ currentVersionId: versionId }).where(eq(documents.id, doc.id));
    if (viewers) await setViewers(q, doc.id, viewers);
    await indexDocument(store, doc.id);
    await audit(q, { actorId: user.id, action: 'document.upload', targetType: 'document', targetId: doc.id, details: { meetingId, itemId, sha256: file.sha256, size: file.size, pages: info.pageCount, access: fields.access ?? 'all' } });
    return doc.id;
  });
  return loadDocumentInfo(store, await documentAccess(store, user, id));
}

/** Replaces a document's file with a new version; older versions stay listed. Managers only. */
export async function replaceDocument(deps: DocumentsDeps, user: AuthUser, documentId: number, req: Request, res: Response): Promise<DocumentInfo> {
  const { store } = deps.ctx;
  const a = await documentAccess(store, user, documentId);
  if (!a.canManage) throw new AppError('forbidden', 'Only the meeting secretary may do this', 403);
  await receiveAndStore(deps, req, res, async (q, file, info) => {
    const again = await documentAccess(store, user, documentId);
    if (!again.canManage) throw new AppError('forbidden', 'Only the meeting secretary may do this', 403);
    const [last] = await q.select({ version: documentVersions.version }).from(documentVersions).where(eq(documentVersions.documentId, documentId)).orderBy(desc(documentVersions.version)).limit(1);
    const versionId = await insertVersion(q, documentId, last.version + 1, file, info, user.id);
    await q.update(documents).set({ currentVersionId: versionId }).where(eq(documents.id, documentId));
    await indexDocument(store, documentId);
    await audit(q, { actorId: user.id, action: 'document.replace', targetType: 'document', targetId: documentId, details: { version: last.version + 1, sha256: file.sha256, pages: info.pageCount } });
    await deps.ctx.bus.share(q, 'document:changed', { documentId, meetingId: a.document.meetingId, change: 'version' });
  });
  deps.ctx.bus.emit('document:changed', { documentId, meetingId: a.document.meetingId, change: 'version' });
  return loadDocumentInfo(store, await documentAccess(store, user, documentId));
}

/** Renames a document, changes its access, named viewers or publication. Managers only. */
export async function updateDocument(ctx: AppContext, user: AuthUser, documentId: number, body: UpdateDocumentBody): Promise<DocumentInfo> {
  const { store } = ctx;
  const meetingId = await store.tx(async (q) => {
    const a = await documentAccess(store, user, documentId);
    if (!a.canManage) throw new AppError('forbidden', 'Only the meeting secretary may do this', 403);
    const viewers = await parseViewerIds(store, a.document.meetingId, body.viewerIds);
    const set: Partial<typeof documents.$inferInsert> = {};
    if (body.title !== undefined) set.title = body.title;
    if (body.access !== undefined) set.access = body.access;
    if (body.published !== undefined) set.published = body.published;
    if (body.offlineAllowed !== undefined) set.offlineAllowed = body.offlineAllowed;
    if (Object.keys(set).length) await q.update(documents).set(set).where(eq(documents.id, documentId));
    if (viewers) await setViewers(q, documentId, viewers);
    if (body.title !== undefined) await indexDocument(store, documentId);
    await audit(q, { actorId: user.id, action: 'document.update', targetType: 'document', targetId: documentId, details: { ...set, ...(viewers ? { viewerIds: viewers } : {}) } });
    await ctx.bus.share(q, 'document:changed', { documentId, meetingId: a.document.meetingId, change: 'access' });
    return a.document.meetingId;
  });
  ctx.bus.emit('document:changed', { documentId, meetingId, change: 'access' });
  return loadDocumentInfo(store, await documentAccess(store, user, documentId));
}

/** Moves a document to another position among its agenda item's documents. Managers only. */
export async function moveDocument(ctx: AppContext, user: AuthUser, documentId: number, body: MoveDocumentBody): Promise<DocumentInfo> {
  const { store } = ctx;
  await store.tx(async (q) => {
    const a = await documentAccess(store, user, documentId);
    if (!a.canManage) throw new AppError('forbidden', 'Only the meeting secretary may do this', 403);
    const siblings = (
      await q
        .select()
        .from(documents)
        .where(and(eq(documents.agendaItemId, a.document.agendaItemId), isNull(documents.removedAt)))
        .orderBy(asc(documents.position), asc(documents.id))
    ).filter((s) => s.id !== documentId);
    siblings.splice(Math.min(body.position, siblings.length), 0, a.document);
    for (const [i, s] of siblings.entries()) {
      if (s.position !== i || s.id === documentId) await q.update(documents).set({ position: i }).where(eq(documents.id, s.id));
    }
    await audit(q, { actorId: user.id, action: 'document.move', targetType: 'document', targetId: documentId, details: { position: Math.min(body.position, siblings.length - 1) } });
  });
  return loadDocumentInfo(store, await documentAccess(store, user, documentId));
}

/** Removes a document (soft: rows kept for the audit trail, gone from every listing, file and search). */
export async function removeDocument(ctx: AppContext, user: AuthUser, documentId: number): Promise<void> {
  const { store } = ctx;
  const meetingId = await store.tx(async (q) => {
    const a = await documentAccess(store, user, documentId);
    if (!a.canManage) throw new AppError('forbidden', 'Only the meeting secretary may do this', 403);
    await q.update(documents).set({ removedAt: new Date().toISOString() }).where(eq(documents.id, documentId));
    await removeIndexed(store, 'document', [documentId]);
    await audit(q, { actorId: user.id, action: 'document.remove', targetType: 'document', targetId: documentId, details: { meetingId: a.document.meetingId } });
    await ctx.bus.share(q, 'document:changed', { documentId, meetingId: a.document.meetingId, change: 'removed' });
    return a.document.meetingId;
  });
  ctx.bus.emit('document:changed', { documentId, meetingId, change: 'removed' });
}

/** Every agenda item of the meeting in display order with the documents the caller may see. */
export async function loadMeetingPack(ctx: Pick<AppContext, 'store'>, user: AuthUser, meetingId: number): Promise<MeetingPack> {
  const { store } = ctx;
  const m = await meetingAccess(store, user, meetingId);
  const agenda = await loadAgenda(store, meetingId);
  const all = await store.q.select().from(documents).where(packWhere(meetingId)).orderBy(asc(documents.position), asc(documents.id));
  const visible = await loadVisibleDocumentIds(store, user, all.map((d) => d.id));
  const shown = all.filter((d) => visible.has(d.id));
  const infos = new Map<number, DocumentInfo>();
  for (const d of shown) infos.set(d.id, await loadDocumentInfo(store, packAccess(m, d)));
  return packOf(meetingId, agenda.items, shown, (d) => infos.get(d.id)!);
}

const packWhere = (meetingId: number) => and(eq(documents.meetingId, meetingId), isNull(documents.removedAt));
const packAccess = (m: MeetingAccess, d: DocumentAccess['document']) => ({ document: d, canManage: m.canManage, canDownload: m.canManage || d.access !== 'confidential' });

function packOf(meetingId: number, items: Agenda['items'], shown: DocumentAccess['document'][], info: (d: DocumentAccess['document']) => DocumentInfo): MeetingPack {
  return {
    meetingId,
    items: items.map((it) => ({
      id: it.id,
      number: it.number,
      title: it.title,
      parentId: it.parentId,
      documents: shown.filter((d) => d.agendaItemId === it.id).map(info),
    })),
  };
}

/** Text of one page of the current version (for accessibility and copy). */
export async function pageText(ctx: Pick<AppContext, 'store'>, user: AuthUser, documentId: number, page: number) {
  const a = await documentAccess(ctx.store, user, documentId, { consultations: true });
  await auditConfidential(ctx, user, a, 'page_text', { page });
  const [row] = await ctx.store.q
    .select({ text: documentPages.text })
    .from(documentPages)
    .where(and(eq(documentPages.versionId, a.document.currentVersionId ?? -1), eq(documentPages.page, page)))
    .limit(1);
  if (!row) throw notFound('Page');
  return { documentId, page, text: row.text };
}

/**
 * Sends a stored PDF with HTTP Range support (single ranges; anything else gets the whole file),
 * a strong ETag (the content hash, for `If-Range`), and `Cache-Control: private, no-store`: document
 * bytes never stay in an HTTP cache (a shared tablet after logout); every read re-runs the authorization.
 */
export async function sendPdf(req: Request, res: Response, source: string | Buffer, sha256: string, size: number, fileName: string): Promise<void> {
  // Opened before any header goes out: a file missing from the store (a restore without its files, a disk fault)
  // is a clear 500 with its reason, not a response cut after its headers.
  const fd = typeof source === 'string' ? await openStored(source) : null;
  const etag = `"${sha256}"`;
  res.setHeader('etag', etag);
  res.setHeader('cache-control', 'private, no-store');
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('content-type', 'application/pdf');
  res.setHeader('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(fileName)}`);
  res.setHeader('x-content-type-options', 'nosniff');
  const inm = req.get('if-none-match');
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    await fd?.close();
    res.status(304).end();
    return;
  }
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.get('range');
  const ifRange = req.get('if-range');
  if (range && (!ifRange || ifRange === etag)) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (m && (m[1] || m[2])) {
      if (m[1]) {
        start = Number(m[1]);
        end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      } else {
        start = Math.max(0, size - Number(m[2]));
      }
      if (start > end || start >= size) {
        await fd?.close();
        res.setHeader('content-range', `bytes */${size}`);
        throw new AppError('range_not_satisfiable', 'Requested range not satisfiable', 416);
      }
      status = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
    }
  }
  res.status(status);
  res.setHeader('content-length', String(end - start + 1));
  if (req.method === 'HEAD' || !fd) {
    await fd?.close();
    if (req.method === 'HEAD') res.end();
    else res.end((source as Buffer).subarray(start, end + 1));
    return;
  }
  // Resolves when the response is done, so the route wrapper never answers on top of the stream.
  return new Promise((resolve) => {
    const stream = fd.createReadStream({ start, end, highWaterMark: 256 * 1024 });
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** The stored file, open for reading. @throws internal (500) naming the missing file's content hash */
async function openStored(file: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new AppError('internal', `The stored file ${path.basename(file).slice(0, 12)}… is missing from the file store; restore it from the backup (docs/DEPLOY.md)`, 500);
  }
}

/**
 * Serves a version's bytes for viewing: every request, including each range, is authorized. A reader
 * who may only view a confidential document gets the watermarked view-only copy (ranges are cut from
 * it), never the original; every request for a confidential document is audited.
 */
export async function serveFile(deps: DocumentsDeps, user: AuthUser, documentId: number, versionId: number | undefined, req: Request, res: Response): Promise<void> {
  const { ctx } = deps;
  const a = await documentAccess(ctx.store, user, documentId, { consultations: true });
  const v = await loadVersionFor(ctx.store, a, versionId);
  await auditConfidential(ctx, user, a, 'view', { version: v.version, range: req.get('range')?.slice(0, 40) ?? null, watermarked: mustWatermark(a) });
  if (mustWatermark(a)) {
    const copy = await viewOnlyCopy(deps.pool, deps.store.pathFor(v.sha256), v.sha256, viewOnlyLines(user));
    return sendPdf(req, res, copy.bytes, copy.sha256, copy.bytes.length, v.fileName);
  }
  return sendPdf(req, res, deps.store.pathFor(v.sha256), v.sha256, v.size, v.fileName);
}

/** A downloaded copy stamped with the downloader's name, unit and the time on every page. */
export async function downloadFile(deps: DocumentsDeps, user: AuthUser, documentId: number, res: Response): Promise<void> {
  const { ctx } = deps;
  const a = await documentAccess(ctx.store, user, documentId, { consultations: true });
  if (!a.canDownload) {
    await auditConfidential(ctx, user, a, 'download_refused');
    throw new AppError('download_forbidden', 'This document is confidential: it may be viewed, not downloaded', 403);
  }
  const v = await loadVersionFor(ctx.store, a, undefined);
  await auditConfidential(ctx, user, a, 'download', { version: v.version });
  const when = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date());
  const lines = [user.fullName, user.unit ?? '', when].filter(Boolean);
  const bytes = await deps.pool.watermark(deps.store.pathFor(v.sha256), lines);
  await audit(deps.ctx.store.q, { actorId: user.id, action: 'document.download', targetType: 'document', targetId: documentId, details: { version: v.version } });
  res.setHeader('content-type', 'application/pdf');
  res.setHeader('cache-control', 'private, no-store');
  res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.document.title.replace(/\.pdf$/i, '') + '.pdf')}`);
  res.setHeader('content-length', String(bytes.byteLength));
  res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
