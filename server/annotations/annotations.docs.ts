import { and, asc, eq, gt } from 'drizzle-orm';
import * as Y from 'yjs';
import { ANNOTATION_LIMITS, AnnotationItem, type LayerRef, itemsMapName, layerDocName, parseItemsMapName } from '../../shared/protocol/annotations.js';
import { type VersionChange, reanchorItem, versionChange } from '../../shared/rules/anchoring.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { documentPages, documentVersions, documents } from '../db/schema/index.js';
import { documentAccess } from '../documents/documents.access.js';
import type { Logger } from '../log.js';
import { SERVER_ORIGIN, type YjsHub, yjsHub } from '../yjs/yjs.hub.js';
import { type YjsDocKind, docPattern } from '../yjs/yjs.registry.js';

/** Root map of a layer doc written by the server only: `<newVersionId>` → the version it was carried from. */
export const CARRY_MAP = 'carry';

type PrivateParsed = { documentId: number; userId: number };
type SharedParsed = { documentId: number; meetingId: number };

/**
 * Private layer `annotation:<documentId>:private:<userId>`: its owner alone, and only while the owner
 * may see the document (documentAccess: published, named viewer for named/confidential, …).
 */
export function privateLayerKind(onOpen: (name: string) => void): YjsDocKind<PrivateParsed> {
  return {
    kind: 'annotation-private',
    parse: docPattern<'documentId' | 'userId'>('annotation:{documentId}:private:{userId}'),
    access(user, { documentId, userId }, db) {
      if (user.id !== userId) return 'none';
      documentAccess(db, user, documentId);
      onOpen(layerDocName({ documentId, layer: 'private', userId }));
      return 'write';
    },
  };
}

/**
 * Shared layer `annotation:<documentId>:shared:<meetingId>`: everyone who may see the document, and
 * only in the document's own meeting. Writing is open to them, but the layer guard only accepts
 * items authored by the writer (and lets managers remove anyone's).
 */
export function sharedLayerKind(onOpen: (name: string) => void): YjsDocKind<SharedParsed> {
  return {
    kind: 'annotation-shared',
    parse: docPattern<'documentId' | 'meetingId'>('annotation:{documentId}:shared:{meetingId}'),
    access(user, { documentId, meetingId }, db) {
      const a = documentAccess(db, user, documentId);
      if (a.document.meetingId !== meetingId) return 'none';
      onOpen(layerDocName({ documentId, layer: 'shared', meetingId }));
      return 'write';
    },
  };
}

/** The version rows of a document, oldest first. */
function versionsOf(db: Db, documentId: number) {
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

/** What the guard knows about one loaded layer doc. */
interface Guarded {
  ref: LayerRef;
  /** Last accepted value of every item, per items map (references, not copies). */
  shadow: Map<string, Map<string, unknown>>;
  /** Item keys changed since the last projection, as `<mapName>\u0000<itemId>`. */
  dirty: Set<string>;
}

/**
 * The annotation layers on the Yjs hub: registers both doc kinds, guards every client change to a
 * layer doc (schema, sizes, authorship — anything refused is reverted in the same event-loop turn,
 * so other clients end with the previous state), carries items over to new document versions and
 * feeds the relational projection. One per app (`annotationLayers(ctx)`).
 */
export class AnnotationLayers {
  readonly hub: YjsHub;
  private guarded = new WeakMap<Y.Doc, Guarded>();
  private byName = new Map<string, Y.Doc>();
  private changes = new Map<string, VersionChange>();
  private versionCache = new Map<number, { id: number; version: number; pageCount: number }[]>();
  private lastVersionRowId = 0;
  private lastAuditId = 0;
  private log: Logger;
  private db: Db;
  private timer: NodeJS.Timeout | null = null;
  /** Called after the guard accepted or reverted client changes (tests, projection). */
  onDirty: ((name: string) => void) | null = null;

  constructor(ctx: Pick<AppContext, 'db' | 'config' | 'log' | 'bus'>) {
    this.hub = yjsHub(ctx);
    this.db = ctx.db;
    this.log = ctx.log.child({ domain: 'annotations' });
    const onOpen = (name: string) => this.guard(name);
    this.hub.registerKind(privateLayerKind(onOpen));
    this.hub.registerKind(sharedLayerKind(onOpen));
    this.lastVersionRowId = (this.db.$client.prepare('SELECT max(id) AS id FROM document_versions').get() as { id: number | null }).id ?? 0;
    this.lastAuditId = (this.db.$client.prepare('SELECT max(id) AS id FROM audit_log').get() as { id: number | null }).id ?? 0;
  }

  /**
   * Watches for new document versions (the documents domain announces none on the bus, so the
   * newest version row id is polled: one indexed query) and carries annotations over; and for
   * access changes (see `checkAccessChanges`).
   */
  startVersionWatch(intervalMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      try {
        this.checkNewVersions();
        this.checkAccessChanges();
      } catch (err) {
        this.log.error({ err }, 'annotations: watching documents failed');
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Re-checks live layer connections of documents whose access changed or that were removed since
   * the last check (the documents domain audits those in the same transaction; the audit log's id
   * is the cursor), so a member taken off a document loses its layers within a second.
   */
  checkAccessChanges(): void {
    const rows = this.db.$client
      .prepare("SELECT id, target_id AS documentId FROM audit_log WHERE id > ? AND action IN ('document.update', 'document.remove') ORDER BY id")
      .all(this.lastAuditId) as { id: number; documentId: string }[];
    if (!rows.length) return;
    this.lastAuditId = rows.at(-1)!.id;
    for (const documentId of new Set(rows.map((r) => r.documentId))) {
      const prefix = `annotation:${documentId}:`;
      for (const name of this.byName.keys()) if (name.startsWith(prefix)) this.hub.recheck({ docName: name });
    }
  }

  /** Carries annotations of every document that got a new version since the last check. */
  checkNewVersions(): void {
    const rows = this.db
      .select({ id: documentVersions.id, documentId: documentVersions.documentId })
      .from(documentVersions)
      .where(gt(documentVersions.id, this.lastVersionRowId))
      .orderBy(asc(documentVersions.id))
      .all();
    if (!rows.length) return;
    this.lastVersionRowId = rows.at(-1)!.id;
    for (const documentId of new Set(rows.map((r) => r.documentId))) {
      this.versionCache.delete(documentId);
      try {
        this.carryDocument(documentId);
      } catch (err) {
        this.log.error({ err, documentId }, 'annotations: carrying over to a new version failed');
      }
    }
  }

  /** Every stored layer doc name of a document (from the hub's persistence). */
  layerDocNames(documentId: number): string[] {
    const prefix = `annotation:${documentId}:`;
    const rows = this.db.$client
      .prepare('SELECT DISTINCT doc_name AS name FROM yjs_updates WHERE doc_name >= ? AND doc_name < ?')
      .all(prefix, `annotation:${documentId};`) as { name: string }[];
    const names = new Set(rows.map((r) => r.name));
    for (const n of this.byName.keys()) if (n.startsWith(prefix)) names.add(n);
    return [...names];
  }

  /** Carries every layer of a document to its current version (idempotent). */
  carryDocument(documentId: number): void {
    for (const name of this.layerDocNames(documentId)) this.carryLayer(name);
  }

  /** The live, guarded Y.Doc of a layer (loads it from the hub). */
  doc(name: string): Y.Doc {
    return this.guard(name);
  }

  /**
   * Attaches the guard to the hub's live doc of a layer (once per Y.Doc instance: an unloaded and
   * reloaded doc gets a new one) and brings it to the document's current version.
   */
  guard(name: string): Y.Doc {
    const ydoc = this.hub.getDoc(name);
    if (this.guarded.has(ydoc)) return ydoc;
    const ref = parseRef(name);
    const g: Guarded = { ref, shadow: new Map(), dirty: new Set() };
    for (const [mapName] of ydoc.share) {
      if (parseItemsMapName(mapName) === null && mapName !== CARRY_MAP) continue;
      const m = ydoc.getMap(mapName);
      const shadow = new Map<string, unknown>();
      m.forEach((val, key) => shadow.set(key, val));
      g.shadow.set(mapName, shadow);
    }
    this.guarded.set(ydoc, g);
    this.byName.set(name, ydoc);
    ydoc.on('destroy', () => {
      if (this.byName.get(name) === ydoc) this.byName.delete(name);
    });
    ydoc.on('afterTransaction', (tr: Y.Transaction) => this.afterTransaction(name, ydoc, g, tr));
    this.carryLayer(name);
    return ydoc;
  }

  /** The live doc of a layer when it is loaded and guarded, else null (never loads). */
  loaded(name: string): Y.Doc | null {
    return this.byName.get(name) ?? null;
  }

  /** Item keys changed since the last call (and forgets them); null when the doc is not guarded. */
  takeDirty(name: string, ydoc: Y.Doc): Set<string> | null {
    const g = this.guarded.get(ydoc);
    if (!g) return null;
    const out = g.dirty;
    g.dirty = new Set();
    return out;
  }

  private versions(documentId: number) {
    let v = this.versionCache.get(documentId);
    if (!v) {
      v = versionsOf(this.db, documentId);
      this.versionCache.set(documentId, v);
    }
    return v;
  }

  private currentVersionId(documentId: number): number | null {
    return this.db.select({ v: documents.currentVersionId }).from(documents).where(eq(documents.id, documentId)).get()?.v ?? null;
  }

  private change(fromVersionId: number, toVersionId: number): VersionChange {
    const key = `${fromVersionId}>${toVersionId}`;
    let c = this.changes.get(key);
    if (!c) {
      c = versionChange(fromVersionId, pageTexts(this.db, fromVersionId), pageTexts(this.db, toVersionId));
      if (this.changes.size > 50) this.changes.delete(this.changes.keys().next().value!);
      this.changes.set(key, c);
    }
    return c;
  }

  /**
   * Brings one layer doc to the document's current version: when the current version's map was
   * never filled by a carry, copies every item of the newest earlier version that has items,
   * re-anchored; items someone already drew on the new version are kept. Records the carry in
   * `carry` so it happens once; later arrivals on the old version are forwarded by the guard.
   */
  carryLayer(name: string): void {
    const ref = parseRef(name);
    const current = this.currentVersionId(ref.documentId);
    if (!current) return;
    const ydoc = this.hub.getDoc(name);
    const carry = ydoc.getMap<number>(CARRY_MAP);
    if (carry.has(String(current))) return;
    const versions = this.versions(ref.documentId);
    if (!versions.some((v) => v.id === current)) {
      this.versionCache.delete(ref.documentId);
      if (!this.versions(ref.documentId).some((v) => v.id === current)) return;
    }
    const order = this.versions(ref.documentId);
    const idx = order.findIndex((v) => v.id === current);
    let from: number | null = null;
    for (let i = idx - 1; i >= 0; i--) {
      const m = ydoc.share.has(itemsMapName(order[i].id)) ? ydoc.getMap(itemsMapName(order[i].id)) : null;
      if (m && m.size > 0) {
        from = order[i].id;
        break;
      }
    }
    if (from === null) {
      // Nothing to carry: an earlier version may still receive offline items later; mark the
      // newest earlier version as the source so the guard forwards them.
      if (idx > 0) this.hub.withDoc(name, (d) => d.getMap<number>(CARRY_MAP).set(String(current), order[idx - 1].id));
      return;
    }
    const src = ydoc.getMap(itemsMapName(from));
    const change = this.change(from, current);
    const fromId = from;
    this.hub.withDoc(name, (d) => {
      const dst = d.getMap(itemsMapName(current));
      src.forEach((value, key) => {
        if (dst.has(key)) return;
        const parsed = AnnotationItem.safeParse(value);
        if (!parsed.success) return;
        dst.set(key, reanchorItem(parsed.data, change));
      });
      d.getMap<number>(CARRY_MAP).set(String(current), fromId);
    });
    this.log.info({ doc: name, from, to: current, items: src.size }, 'annotations: carried to new version');
  }

  /** Versions that were carried from `versionId`, directly. */
  private carriedTargets(ydoc: Y.Doc, versionId: number): number[] {
    const out: number[] = [];
    if (!ydoc.share.has(CARRY_MAP)) return out;
    ydoc.getMap<number>(CARRY_MAP).forEach((from, to) => {
      if (from === versionId) out.push(Number(to));
    });
    return out;
  }

  /**
   * Checks what a client transaction changed. Accepted item changes update the shadow and are
   * forwarded to newer versions when they landed on an already carried one (offline edits);
   * refused ones are reverted in a server transaction that runs right after this one, in the same
   * event-loop turn, so the hub commits and broadcasts both together.
   */
  private afterTransaction(name: string, ydoc: Y.Doc, g: Guarded, tr: Y.Transaction): void {
    if (tr.origin === SERVER_ORIGIN) {
      // Server writes (carry-over, reverts) are trusted: just keep the shadow in step.
      this.absorb(ydoc, g, tr);
      return;
    }
    const user = (tr.origin as { user?: AuthUser } | null)?.user;
    if (!user) {
      this.absorb(ydoc, g, tr);
      return;
    }
    const reverts: (() => void)[] = [];
    const forwards: { mapName: string; key: string; value: unknown }[] = [];
    const roots = new Map<Y.AbstractType<any>, string>();
    for (const [n, t] of ydoc.share) roots.set(t, n);
    let canManage: boolean | null = null;
    const manager = () => {
      if (canManage === null) {
        try {
          canManage = documentAccess(this.db, user, g.ref.documentId).canManage;
        } catch {
          canManage = false;
        }
      }
      return canManage;
    };
    for (const [type, keys] of tr.changed) {
      const rootName = roots.get(type as Y.AbstractType<any>);
      if (rootName === undefined) continue; // nested content: its root entry is checked below
      if (rootName === CARRY_MAP) {
        // Server bookkeeping: clients may not touch it.
        const shadow = g.shadow.get(CARRY_MAP) ?? new Map<string, unknown>();
        for (const key of keys) {
          if (key === null) continue;
          const before = shadow.get(key);
          reverts.push(() => {
            const m = ydoc.getMap(CARRY_MAP);
            if (before === undefined) m.delete(key);
            else m.set(key, before);
          });
        }
        if (keys.has(null)) reverts.push(() => clearForeign(ydoc, type as Y.AbstractType<any>, true));
        continue;
      }
      const versionId = parseItemsMapName(rootName);
      const isVersion = () => this.versions(g.ref.documentId).some((v) => v.id === versionId);
      // A version uploaded since the cache was filled: look again once.
      if (versionId !== null && !isVersion()) this.versionCache.delete(g.ref.documentId);
      const known = versionId !== null && isVersion();
      if (!known || keys.has(null)) {
        // A root that is not an items map of this document (or list content in one): remove it.
        reverts.push(() => clearForeign(ydoc, type as Y.AbstractType<any>, known));
        if (!known) continue;
      }
      const map = ydoc.getMap(rootName);
      let shadow = g.shadow.get(rootName);
      if (!shadow) g.shadow.set(rootName, (shadow = new Map()));
      const pageCount = this.versions(g.ref.documentId).find((v) => v.id === versionId)!.pageCount;
      for (const key of keys) {
        if (key === null) continue;
        const before = shadow.get(key);
        const after = map.has(key) ? map.get(key) : undefined;
        // The shadow holds exactly the accepted items: its size is O(1), Y.Map.size is O(n).
        const reason = this.refusal(g.ref, user, key, before, after, pageCount, shadow.size + (before === undefined ? 1 : 0), manager);
        if (reason) {
          this.log.info({ doc: name, userId: user.id, item: key, reason }, 'annotations: change refused and reverted');
          reverts.push(() => {
            const m = ydoc.getMap(rootName);
            if (before === undefined) m.delete(key);
            else m.set(key, before);
          });
          continue;
        }
        if (after === undefined) shadow.delete(key);
        else shadow.set(key, after);
        g.dirty.add(`${rootName}\u0000${key}`);
        forwards.push({ mapName: rootName, key, value: after });
      }
    }
    if (reverts.length) {
      ydoc.transact(() => {
        for (const r of reverts) r();
      }, SERVER_ORIGIN);
    }
    // Offline edits made on a version that was replaced meanwhile: carry them forward too.
    const byMap = new Map<string, { key: string; value: unknown }[]>();
    for (const f of forwards) {
      const list = byMap.get(f.mapName) ?? [];
      list.push(f);
      byMap.set(f.mapName, list);
    }
    for (const [mapName, list] of byMap) this.forward(ydoc, parseItemsMapName(mapName)!, list, new Set());
    this.onDirty?.(name);
  }

  private forward(ydoc: Y.Doc, fromVersion: number, list: { key: string; value: unknown }[], seen: Set<number>): void {
    for (const to of this.carriedTargets(ydoc, fromVersion)) {
      if (seen.has(to)) continue;
      seen.add(to);
      const change = this.change(fromVersion, to);
      const moved: { key: string; value: unknown }[] = [];
      ydoc.transact(() => {
        const dst = ydoc.getMap(itemsMapName(to));
        for (const { key, value } of list) {
          if (value === undefined) {
            dst.delete(key);
            moved.push({ key, value });
            continue;
          }
          const parsed = AnnotationItem.safeParse(value);
          if (!parsed.success) continue;
          const item = reanchorItem(parsed.data, change);
          dst.set(key, item);
          moved.push({ key, value: item });
        }
      }, SERVER_ORIGIN);
      this.forward(ydoc, to, moved, seen);
    }
  }

  /** Keeps the shadow in step with trusted transactions. */
  private absorb(ydoc: Y.Doc, g: Guarded, tr: Y.Transaction): void {
    const roots = new Map<Y.AbstractType<any>, string>();
    for (const [n, t] of ydoc.share) roots.set(t, n);
    for (const [type, keys] of tr.changed) {
      const rootName = roots.get(type as Y.AbstractType<any>);
      if (rootName === undefined || (parseItemsMapName(rootName) === null && rootName !== CARRY_MAP)) continue;
      const map = ydoc.getMap(rootName);
      let shadow = g.shadow.get(rootName);
      if (!shadow) g.shadow.set(rootName, (shadow = new Map()));
      for (const key of keys) {
        if (key === null) continue;
        if (map.has(key)) shadow.set(key, map.get(key));
        else shadow.delete(key);
        if (rootName !== CARRY_MAP) g.dirty.add(`${rootName}\u0000${key}`);
      }
    }
  }

  /** Why a client's change of one item is refused, or null when it is accepted. */
  private refusal(ref: LayerRef, user: AuthUser, key: string, before: unknown, after: unknown, pageCount: number, mapSize: number, manager: () => boolean): string | null {
    if (after !== undefined) {
      const parsed = AnnotationItem.safeParse(after);
      if (!parsed.success) return 'invalid item';
      const item = parsed.data;
      if (item.id !== key) return 'id mismatch';
      if (item.page > pageCount) return 'no such page';
      if (before === undefined && mapSize > ANNOTATION_LIMITS.itemsPerLayer) return 'too many items';
      if (ref.layer === 'shared') {
        if (!item.author || item.author.userId !== user.id || item.author.name !== user.fullName) return 'not the author';
      } else if (item.author) return 'author in a private layer';
    }
    if (ref.layer === 'shared' && before !== undefined) {
      const prev = before as { author?: { userId?: number } };
      if (prev.author?.userId !== user.id && !manager()) return "someone else's item";
    }
    return null;
  }
}

/** Removes a foreign root's content (or only the list content of an items map). */
function clearForeign(ydoc: Y.Doc, type: Y.AbstractType<any>, keepMapEntries: boolean): void {
  ydoc.transact((tr) => {
    if (!keepMapEntries) for (const item of type._map.values()) if (!item.deleted) item.delete(tr);
    for (let n = type._start; n; n = n.right) if (!n.deleted) n.delete(tr);
  }, SERVER_ORIGIN);
}

function parseRef(name: string): LayerRef {
  const m = /^annotation:(\d+):(private|shared):(\d+)$/.exec(name);
  if (!m) throw new Error(`not an annotation layer: ${name}`);
  return m[2] === 'private' ? { documentId: Number(m[1]), layer: 'private', userId: Number(m[3]) } : { documentId: Number(m[1]), layer: 'shared', meetingId: Number(m[3]) };
}

const layers = new WeakMap<object, AnnotationLayers>();

/** The annotation layers of an app, created on first use (registers the doc kinds with the hub). */
export function annotationLayers(ctx: Pick<AppContext, 'db' | 'config' | 'log' | 'bus'>): AnnotationLayers {
  let l = layers.get(ctx);
  if (!l) {
    l = new AnnotationLayers(ctx);
    layers.set(ctx, l);
  }
  return l;
}
