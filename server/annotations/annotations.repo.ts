import type Database from 'better-sqlite3';
import { and, eq } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { annotationItems } from '../db/tables.js';

/** One row of `annotation_items`, as the projection writes it. */
export type AnnotationRow = typeof annotationItems.$inferInsert;

/** One write of the projection: drop every row of a layer doc, upsert an item's row, or delete one. */
export type ProjectionWrite = { removeDoc: string } | { row: AnnotationRow } | { remove: { docName: string; versionId: number; itemId: string } };

// Hot path (every stroke of a live meeting passes here, batched): on SQLite prepared statements in one
// better-sqlite3 transaction, as before the store; on PostgreSQL the builder in one store transaction.
const prepared = new WeakMap<Database.Database, (writes: ProjectionWrite[]) => void>();
function sqliteWriter(db: Database.Database): (writes: ProjectionWrite[]) => void {
  let write = prepared.get(db);
  if (!write) {
    const upsert = db.prepare(
      `INSERT OR REPLACE INTO annotation_items (doc_name, version_id, item_id, document_id, layer, meeting_id, owner_id, source_id, kind, page, text, color, status, updated_at, data)
       VALUES (@docName, @versionId, @itemId, @documentId, @layer, @meetingId, @ownerId, @sourceId, @kind, @page, @text, @color, @status, @updatedAt, @data)`,
    );
    const remove = db.prepare('DELETE FROM annotation_items WHERE doc_name = ? AND version_id = ? AND item_id = ?');
    const removeDoc = db.prepare('DELETE FROM annotation_items WHERE doc_name = ?');
    write = db.transaction((writes: ProjectionWrite[]) => {
      for (const w of writes) {
        if ('removeDoc' in w) removeDoc.run(w.removeDoc);
        else if ('row' in w) upsert.run({ meetingId: null, sourceId: null, status: null, ...w.row, data: JSON.stringify(w.row.data) });
        else remove.run(w.remove.docName, w.remove.versionId, w.remove.itemId);
      }
    });
    prepared.set(db, write);
  }
  return write;
}

/** Applies the projection's writes, in order, in one transaction. */
export async function writeProjection(store: Store, writes: ProjectionWrite[]): Promise<void> {
  if (!writes.length) return;
  if (store.dialect === 'sqlite') {
    await store.sqlite((db) => sqliteWriter(db)(writes));
    return;
  }
  await store.tx(async (q) => {
    for (const w of writes) {
      if ('removeDoc' in w) await q.delete(annotationItems).where(eq(annotationItems.docName, w.removeDoc));
      else if ('row' in w) {
        const { docName: _d, versionId: _v, itemId: _i, ...rest } = w.row;
        await q
          .insert(annotationItems)
          .values(w.row)
          .onConflictDoUpdate({ target: [annotationItems.docName, annotationItems.versionId, annotationItems.itemId], set: { meetingId: null, sourceId: null, status: null, ...rest } });
      } else {
        const r = w.remove;
        await q.delete(annotationItems).where(and(eq(annotationItems.docName, r.docName), eq(annotationItems.versionId, r.versionId), eq(annotationItems.itemId, r.itemId)));
      }
    }
  });
}

