import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnnotationItem } from '../../shared/protocol/annotations.js';
import { type AnnotationRow, writeProjection } from '../../server/annotations/annotations.repo.js';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { annotationItems, devices, users } from '../../server/db/tables.js';
import { deviceSeen } from '../../server/offline/offline.repo.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';

/** The PostgreSQL branches of the annotations and offline repositories (SQLite runs them in every other test). */
describe('annotation projection and device touch on PostgreSQL', () => {
  let pg: ThrowawayPg;
  let store: Store;
  beforeAll(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('annotations_projection'));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  const row = (docName: string, itemId: string, text: string, extra: Partial<AnnotationRow> = {}): AnnotationRow => {
    const data = { id: itemId, kind: 'note', page: 1, x: 10, y: 20, text, color: '#ffcc00', createdAt: 1 } as unknown as AnnotationItem;
    return { docName, versionId: 7, itemId, documentId: 3, layer: 'private', meetingId: null, ownerId: 5, sourceId: null, kind: 'note', page: 1, text, color: '#ffcc00', status: null, updatedAt: 1, data, ...extra };
  };
  const rowsOf = async (docName: string) =>
    (await store.q.select().from(annotationItems).where(eq(annotationItems.docName, docName))).map((r) => [r.itemId, r.text, r.sourceId, r.status, (r.data as { text?: string }).text]).sort();

  it('upserts replace the whole row, deletes remove one item or a whole layer doc, in order', async () => {
    const a = 'annotation:3:private:5';
    const b = 'annotation:3:shared:9';
    await writeProjection(store, [{ row: row(a, 'n1', 'first', { sourceId: 'src', status: 'changed' }) }, { row: row(a, 'n2', 'second') }, { row: row(b, 'n1', 'shared one') }]);
    expect(await rowsOf(a)).toEqual([
      ['n1', 'first', 'src', 'changed', 'first'],
      ['n2', 'second', null, null, 'second'],
    ]);
    // A second write of a key replaces every column (as SQLite's INSERT OR REPLACE): unset ones become null.
    await writeProjection(store, [{ row: row(a, 'n1', 'edited') }, { remove: { docName: a, versionId: 7, itemId: 'n2' } }]);
    expect(await rowsOf(a)).toEqual([['n1', 'edited', null, null, 'edited']]);
    // Dropping a doc and writing it again in one batch (a first projection) leaves only the new rows.
    await writeProjection(store, [{ removeDoc: a }, { row: row(a, 'n3', 'third') }]);
    expect(await rowsOf(a)).toEqual([['n3', 'third', null, null, 'third']]);
    expect(await rowsOf(b)).toEqual([['n1', 'shared one', null, null, 'shared one']]);
  });

  it('a device is created on first sight, its last-seen time moves at most once a minute, and a revoked one says so', async () => {
    const [u] = await store.q.insert(users).values({ username: 'tablet-owner', passwordHash: 'x', fullName: 'Tablet Owner' }).returning({ id: users.id });
    const t0 = new Date('2026-01-01T08:00:00.000Z');
    const seen = (now: Date) => deviceSeen(store, { tokenHash: 'a'.repeat(64), userId: u.id, label: 'Chrome/120 · Android 14', now });
    const lastSeen = async () => (await store.q.select({ at: devices.lastSeenAt, label: devices.label }).from(devices).where(eq(devices.userId, u.id)))[0];
    expect(await seen(t0)).toBe('ok');
    expect(await lastSeen()).toEqual({ at: t0.toISOString(), label: 'Chrome/120 · Android 14' });
    expect(await seen(new Date(t0.getTime() + 30_000))).toBe('ok');
    expect((await lastSeen()).at).toBe(t0.toISOString());
    const later = new Date(t0.getTime() + 61_000);
    expect(await seen(later)).toBe('ok');
    expect((await lastSeen()).at).toBe(later.toISOString());
    await store.q.update(devices).set({ revokedAt: later.toISOString() }).where(eq(devices.userId, u.id));
    expect(await seen(new Date(later.getTime() + 120_000))).toBe('revoked');
    expect(await store.q.select().from(devices).where(eq(devices.userId, u.id))).toHaveLength(1);
  });
});
