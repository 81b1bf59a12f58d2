import { asc, eq } from 'drizzle-orm';
import { type VersionChange, versionChange } from '../../shared/rules/anchoring.js';
import type { Store } from '../db/store.js';
import { documentPages, documentVersions, documents } from '../db/tables.js';

/** One version row of a document, as the layers need it. */
export interface VersionRow {
  id: number;
  version: number;
  pageCount: number;
}

/** The version rows of a document, oldest first. */
function versionsOf(store: Store, documentId: number): Promise<VersionRow[]> {
  return store.q
    .select({ id: documentVersions.id, version: documentVersions.version, pageCount: documentVersions.pageCount })
    .from(documentVersions)
    .where(eq(documentVersions.documentId, documentId))
    .orderBy(asc(documentVersions.version));
}

async function pageTexts(store: Store, versionId: number): Promise<string[]> {
  const rows = await store.q.select({ text: documentPages.text }).from(documentPages).where(eq(documentPages.versionId, versionId)).orderBy(asc(documentPages.page));
  return rows.map((r) => r.text);
}

/**
 * What the annotation layers read of the documents domain, cached: the versions of a document
 * (read again when a version is added: `added`) and the text changes between two versions (the
 * last ~50 pairs) that re-anchoring needs. Reads only, on the store. The guard runs synchronously
 * inside the hub (`validate`), so it reads the cache only (`cached`, `cachedChange`): a layer's
 * versions are loaded when it is opened (`list`), before any client update reaches the guard.
 */
export class DocumentVersions {
  private cache = new Map<number, VersionRow[]>();
  private loading = new Map<number, Promise<VersionRow[]>>();
  private changes = new Map<string, VersionChange>();

  constructor(private readonly store: Store) {}

  /** The version rows of a document, oldest first (cached). */
  async list(documentId: number): Promise<VersionRow[]> {
    return this.cache.get(documentId) ?? this.refresh(documentId);
  }

  /** A version of the document was added: reads its cached versions again (the old list serves until then). */
  async added(documentId: number): Promise<void> {
    if (this.cache.has(documentId)) await this.refresh(documentId);
  }

  /** Reads a document's versions (again); one read at a time per document. */
  private refresh(documentId: number): Promise<VersionRow[]> {
    let p = this.loading.get(documentId);
    if (!p) {
      p = versionsOf(this.store, documentId)
        .then((v) => {
          this.cache.set(documentId, v);
          return v;
        })
        .finally(() => this.loading.delete(documentId));
      this.loading.set(documentId, p);
    }
    return p;
  }

  /** The version row of a document, reading again once when it is not cached (a new upload). */
  async find(documentId: number, versionId: number): Promise<VersionRow | undefined> {
    return (await this.list(documentId)).find((x) => x.id === versionId) ?? (await this.refresh(documentId)).find((x) => x.id === versionId);
  }

  /**
   * The guard's synchronous lookup: the cached version row, or undefined. On a miss for a document
   * whose versions are cached (a version added since), reads them again in the background, so the
   * next update finds it.
   */
  cached(documentId: number, versionId: number): VersionRow | undefined {
    const list = this.cache.get(documentId);
    const v = list?.find((x) => x.id === versionId);
    if (!v && list && !this.loading.has(documentId)) this.refresh(documentId).catch(() => {});
    return v;
  }

  /** The document's current version id, or null. */
  async currentId(documentId: number): Promise<number | null> {
    const [row] = await this.store.q.select({ v: documents.currentVersionId }).from(documents).where(eq(documents.id, documentId)).limit(1);
    return row?.v ?? null;
  }

  /** How the page texts changed from one version to another (cached). */
  async change(fromVersionId: number, toVersionId: number): Promise<VersionChange> {
    const cached = this.cachedChange(fromVersionId, toVersionId);
    if (cached) return cached;
    const c = versionChange(fromVersionId, await pageTexts(this.store, fromVersionId), await pageTexts(this.store, toVersionId));
    const key = `${fromVersionId}>${toVersionId}`;
    if (!this.changes.has(key) && this.changes.size > 50) this.changes.delete(this.changes.keys().next().value!);
    this.changes.set(key, c);
    return c;
  }

  /** The cached text change between two versions, or undefined (synchronous: for forwarding inside a Yjs transaction's handler). */
  cachedChange(fromVersionId: number, toVersionId: number): VersionChange | undefined {
    return this.changes.get(`${fromVersionId}>${toVersionId}`);
  }
}
