import type { Response } from 'express';
import { and, eq, inArray } from 'drizzle-orm';
import type * as Y from 'yjs';
import { type AnnotationItem, type LayerRef, type MyAnnotation, itemsMapName, layerDocName, parseItemsMapName } from '../../shared/protocol/annotations.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { annotationItems, documents } from '../db/tables.js';
import { auditConfidential } from '../documents/documents.confidential.js';
import { documentAccess, loadVisibleDocumentIds } from '../documents/documents.access.js';
import { loadVersionFor } from '../documents/documents.service.js';
import type { FileStore } from '../documents/documents.storage.js';
import type { PdfPool } from '../documents/pdf.pool.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import type { AnnotationLayers } from './annotations.docs.js';
import { type AnnotationRow, type ProjectionWrite, writeProjection } from './annotations.repo.js';

/** Parses a layer doc name (the kinds already validated it). */
export function layerRef(name: string): LayerRef {
  const m = /^annotation:(\d+):(private|shared):(\d+)$/.exec(name)!;
  return m[2] === 'private' ? { documentId: Number(m[1]), layer: 'private', userId: Number(m[3]) } : { documentId: Number(m[1]), layer: 'shared', meetingId: Number(m[3]) };
}

function rowOf(name: string, ref: LayerRef, versionId: number, item: AnnotationItem): AnnotationRow {
  return {
    docName: name,
    versionId,
    itemId: item.id,
    documentId: ref.documentId,
    layer: ref.layer,
    meetingId: ref.layer === 'shared' ? ref.meetingId : null,
    ownerId: ref.layer === 'private' ? ref.userId : (item.author?.userId ?? 0),
    sourceId: item.sourceId ?? null,
    kind: item.kind,
    page: item.page,
    text: item.kind === 'highlight' ? item.anchor.quote : item.kind === 'note' ? item.text : '',
    color: item.color,
    status: item.carried?.status ?? null,
    updatedAt: item.updatedAt ?? item.createdAt,
    data: item,
  };
}

/** One queued projection step: an item's value (null = removed), or "drop every row of the doc". */
type Step = { name: string; ref: LayerRef; versionId: number; key: string; item: AnnotationItem | null } | { name: string; removeDoc: true };

/**
 * Projects layer docs into `annotation_items`, incrementally: the hub's debounced hook only reads
 * the values of the items the guard saw change (or every item, the first time this process
 * projects a doc) into a queue; the rows are written from that queue in short transactions of at
 * most `sliceMs` each, one per event-loop turn, so a 5-second batch of a busy meeting (thousands of
 * strokes) never stalls the loop that relays strokes (it did: 40–130 ms in one transaction, CPU
 * profile of `npm run bench -- annotations`). `drain()` writes everything now (before a read of
 * the table, before a doc is unloaded, at close). Values are the items themselves (plain JSON the
 * doc never mutates), so a queued step stays valid after the doc is unloaded. Writes go through the
 * store (annotations.repo.ts) one batch after the other, in queue order; a failed batch is logged.
 */
export class AnnotationProjection {
  private projected = new Set<string>();
  private queue: Step[] = [];
  private head = 0;
  private scheduled = false;
  private closed = false;
  /** The last batch handed to the store: the next one starts after it settles. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private store: AppContext['store'],
    private layers: AnnotationLayers,
    private log: Logger,
    private sliceMs = 4,
  ) {}

  /**
   * Queues the changes of a layer doc since the last call (every item the first time) and writes
   * them in slices; `final` (the doc is about to be unloaded, or the hub closes) writes them now
   * (resolves once written).
   */
  project(name: string, ydoc: Y.Doc, { final = false }: { final?: boolean } = {}): Promise<void> {
    const dirty = this.layers.takeDirty(name, ydoc);
    const ref = layerRef(name);
    if (!this.projected.has(name) || dirty === null) {
      this.queue.push({ name, removeDoc: true });
      for (const [mapName] of ydoc.share) {
        const versionId = parseItemsMapName(mapName);
        if (versionId === null) continue;
        ydoc.getMap<AnnotationItem>(mapName).forEach((item, key) => this.queue.push({ name, ref, versionId, key, item }));
      }
      this.projected.add(name);
    } else {
      for (const k of dirty) {
        const [mapName, key] = k.split('\u0000');
        const versionId = parseItemsMapName(mapName)!;
        const item = ydoc.share.has(mapName) ? (ydoc.getMap<AnnotationItem>(mapName).get(key) ?? null) : null;
        this.queue.push({ name, ref, versionId, key, item });
      }
    }
    if (final) return this.drain();
    this.schedule();
    return Promise.resolve();
  }

  /** Writes every queued step now (one transaction); resolves when they and the batches before them are written. */
  drain(): Promise<void> {
    if (this.head < this.queue.length && !this.closed) {
      const steps = this.queue.slice(this.head);
      this.queue = [];
      this.head = 0;
      return this.write(steps);
    }
    return this.writing;
  }

  /** Stops writing (the database is closing); call `drain()` first to keep what is queued. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
  }

  /** Hands a batch to the store after the previous one; the returned promise never rejects (failures are logged). */
  private write(steps: Step[]): Promise<void> {
    const writes: ProjectionWrite[] = steps.map((st) =>
      'removeDoc' in st ? { removeDoc: st.name } : st.item ? { row: rowOf(st.name, st.ref, st.versionId, st.item) } : { remove: { docName: st.name, versionId: st.versionId, itemId: st.key } },
    );
    this.writing = this.writing.then(() =>
      writeProjection(this.store, writes).catch((err: unknown) => this.log.error({ err, steps: writes.length }, 'annotations: projection write failed')),
    );
    return this.writing;
  }

  private schedule(): void {
    if (this.scheduled || this.head >= this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => void this.slice());
  }

  /** One turn's slice: batches of up to 64 steps until `sliceMs` is used up; the rest next turn. */
  private async slice(): Promise<void> {
    this.scheduled = false;
    if (this.closed) return;
    const until = performance.now() + this.sliceMs;
    while (this.head < this.queue.length && performance.now() < until) {
      const n = Math.min(64, this.queue.length - this.head);
      const batch = this.queue.slice(this.head, this.head + n);
      this.head += n;
      await this.write(batch);
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else this.schedule();
  }
}

/**
 * "My annotations" across a meeting pack: the caller's private items on the current version of
 * every document they may see in the meeting, with whether each was shared. Reads only the
 * caller's own rows (`ownerId = caller`), never anyone else's private layer.
 * @throws AppError 404 when the meeting is not visible
 */
export async function myAnnotations(
  ctx: Pick<AppContext, 'store'>,
  layers: AnnotationLayers,
  projection: AnnotationProjection,
  user: AuthUser,
  meetingId: number,
): Promise<MyAnnotation[]> {
  await meetingAccess(ctx.store, user, meetingId);
  const docs = await ctx.store.q.select({ id: documents.id, title: documents.title, current: documents.currentVersionId }).from(documents).where(eq(documents.meetingId, meetingId));
  const visible = await loadVisibleDocumentIds(ctx.store, user, docs.map((d) => d.id));
  const mine = docs.filter((d) => visible.has(d.id) && d.current);
  if (!mine.length) return [];
  // Bring loaded layers' pending changes into the table first (the hook is debounced).
  for (const d of mine) {
    for (const name of [layerDocName({ documentId: d.id, layer: 'private', userId: user.id }), layerDocName({ documentId: d.id, layer: 'shared', meetingId })]) {
      const ydoc = layers.loaded(name);
      if (ydoc) void projection.project(name, ydoc);
    }
  }
  await projection.drain();
  const rows = await ctx.store.q
    .select()
    .from(annotationItems)
    .where(and(eq(annotationItems.ownerId, user.id), inArray(annotationItems.documentId, mine.map((d) => d.id))));
  const current = new Map(mine.map((d) => [d.id, d]));
  const shared = new Set(rows.filter((r) => r.layer === 'shared' && r.sourceId).map((r) => `${r.versionId}:${r.sourceId}`));
  return rows
    .filter((r) => r.layer === 'private' && current.get(r.documentId)?.current === r.versionId)
    .map((r) => ({
      documentId: r.documentId,
      documentTitle: current.get(r.documentId)!.title,
      itemId: r.itemId,
      kind: r.kind,
      page: r.page,
      text: r.text,
      color: r.color,
      status: r.status,
      shared: shared.has(`${r.versionId}:${r.itemId}`),
      updatedAt: r.updatedAt,
    }))
    .sort((a, b) => a.documentTitle.localeCompare(b.documentTitle, 'vi') || a.documentId - b.documentId || a.page - b.page || a.updatedAt - b.updatedAt);
}

/**
 * "My annotated copy": the document's version (current unless `versionId`) with the caller's
 * private items and the items they shared flattened in, watermarked like every download.
 * @throws AppError 404 (not visible), 403 download_forbidden (confidential)
 */
export async function annotatedCopy(
  deps: { ctx: Pick<AppContext, 'store'>; layers: AnnotationLayers; files: FileStore; pool: PdfPool },
  user: AuthUser,
  documentId: number,
  versionId: number | undefined,
  res: Response,
): Promise<void> {
  const { ctx, layers } = deps;
  const a = await documentAccess(ctx.store, user, documentId);
  if (!a.canDownload) {
    await auditConfidential(ctx, user, a, 'annotated_copy_refused');
    throw new AppError('download_forbidden', 'This document is confidential: it may be viewed, not downloaded', 403);
  }
  await auditConfidential(ctx, user, a, 'annotated_copy');
  const v = await loadVersionFor(ctx.store, a, versionId);
  const mapName = itemsMapName(v.id);
  const items: AnnotationItem[] = [];
  const own = await layers.doc(layerDocName({ documentId, layer: 'private', userId: user.id }));
  const ownIds = new Set<string>();
  if (own.share.has(mapName)) {
    own.getMap<AnnotationItem>(mapName).forEach((item) => {
      items.push(item);
      ownIds.add(item.id);
    });
  }
  const shared = await layers.doc(layerDocName({ documentId, layer: 'shared', meetingId: a.document.meetingId }));
  if (shared.share.has(mapName)) {
    shared.getMap<AnnotationItem>(mapName).forEach((item) => {
      if (item.author?.userId === user.id && !(item.sourceId && ownIds.has(item.sourceId))) items.push(item);
    });
  }
  // One task in the PDF pool's workers: decrypted first when it is encrypted with an empty user
  // password (pdf-lib cannot edit those), the items flattened in, then watermarked.
  const when = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date());
  const bytes = await deps.pool.annotated(deps.files.pathFor(v.sha256), items, [user.fullName, user.unit ?? '', when].filter(Boolean));
  await audit(ctx.store.q, { actorId: user.id, action: 'annotations.download', targetType: 'document', targetId: documentId, details: { version: v.version, items: items.length } });
  res.setHeader('content-type', 'application/pdf');
  res.setHeader('cache-control', 'private, no-store');
  res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.document.title.replace(/\.pdf$/i, '') + ' (ghi chú).pdf')}`);
  res.setHeader('content-length', String(bytes.byteLength));
  res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
