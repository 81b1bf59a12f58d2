import { asc, eq } from 'drizzle-orm';
import { type VersionChange, versionChange } from '../../shared/rules/anchoring.js';
import type { Db } from '../db/client.js';
import { documentPages, documentVersions, documents } from '../db/schema/index.js';

/** One version row of a document, as the layers need it. */
export interface VersionRow {
  id: number;
  version: number;
  pageCount: number;
}

/** The version rows of a document, oldest first. */
function versionsOf(db: Db, documentId: number): VersionRow[] {
  return db
    .select({ id: documentVersions.id, version: documentVersions.version, pageCount: documentVersions.pageCount })
    .from(documentVersions)
    .where(eq(documentVersions.documentId, documentId))
    .orderBy(asc(documentVersions.version))
    .all();
}

function pageTexts(db: Db, versionId: number): string[] {
  return db
    .select({ text: documentPages.text })
    .from(documentPages)
    .where(eq(documentPages.versionId, versionId))
    .orderBy(asc(documentPages.page))
    .all()
    .map((r) => r.text);
}

/**
 * What the annotation layers read of the documents domain, cached: the versions of a document
 * (dropped by `forget` when a version is added) and the text changes between two versions (the last
 * ~50 pairs) that re-anchoring needs. Reads only.
 */
export class DocumentVersions {
  private cache = new Map<number, VersionRow[]>();
  private changes = new Map<string, VersionChange>();

  constructor(private readonly db: Db) {}

  /** The version rows of a document, oldest first (cached). */
  list(documentId: number): VersionRow[] {
    let v = this.cache.get(documentId);
    if (!v) {
      v = versionsOf(this.db, documentId);
      this.cache.set(documentId, v);
    }
    return v;
  }

  /** Drops the cached versions of a document (a version was added). */
  forget(documentId: number): void {
    this.cache.delete(documentId);
  }

  /** The version row of a document, looking again once when it is not cached (a new upload). */
  find(documentId: number, versionId: number): VersionRow | undefined {
    let v = this.list(documentId).find((x) => x.id === versionId);
    if (!v) {
      this.forget(documentId);
      v = this.list(documentId).find((x) => x.id === versionId);
    }
    return v;
  }

  /** The document's current version id, or null. */
  currentId(documentId: number): number | null {
    return this.db.select({ v: documents.currentVersionId }).from(documents).where(eq(documents.id, documentId)).get()?.v ?? null;
  }

  /** How the page texts changed from one version to another (cached). */
  change(fromVersionId: number, toVersionId: number): VersionChange {
    const key = `${fromVersionId}>${toVersionId}`;
    let c = this.changes.get(key);
    if (!c) {
      c = versionChange(fromVersionId, pageTexts(this.db, fromVersionId), pageTexts(this.db, toVersionId));
      if (this.changes.size > 50) this.changes.delete(this.changes.keys().next().value!);
      this.changes.set(key, c);
    }
    return c;
  }
}
