import { asc, eq } from 'drizzle-orm';
import * as Y from 'yjs';
import { ANNOTATION_LIMITS, AnnotationItem, type LayerRef, itemsMapName, layerDocName, parseItemsMapName } from '../../shared/protocol/annotations.js';
import { type VersionChange, reanchorItem, versionChange } from '../../shared/rules/anchoring.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { documentPages, documentVersions, documents } from '../db/schema/index.js';
import { documentAccess } from '../documents/documents.access.js';
import type { Logger } from '../log.js';
import { SERVER_ORIGIN, type YjsHub } from '../yjs/yjs.hub.js';
import { findInUpdate, groupByClient, type Struct } from '../yjs/yjs.filter.js';
import { type YjsDocKind, type YjsRefusal, type YjsValidateContext, docPattern } from '../yjs/yjs.registry.js';

/** Root map of a layer doc written by the server only: `<newVersionId>` → the version it was carried from. */
export const CARRY_MAP = 'carry';

type PrivateParsed = { documentId: number; userId: number };
type SharedParsed = { documentId: number; meetingId: number };

/**
 * Private layer `annotation:<documentId>:private:<userId>`: its owner alone, and only while the owner
 * may see the document (documentAccess: published, named viewer for named/confidential, …).
 */
export function privateLayerKind(onOpen: (name: string) => void, validate?: (ctx: YjsValidateContext) => YjsRefusal[] | null): YjsDocKind<PrivateParsed> {
  return {
    validate,
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
export function sharedLayerKind(onOpen: (name: string) => void, validate?: (ctx: YjsValidateContext) => YjsRefusal[] | null): YjsDocKind<SharedParsed> {
  return {
    validate,
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
  /** The item keys of every items map (Y.Map.size is O(n); this is O(1)), kept in step after each transaction. */
  keys: Map<string, Set<string>>;
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
  private log: Logger;
  private db: Db;
  private unsubscribe: () => void;
  /** Called after the guard accepted or reverted client changes (tests, projection). */
  onDirty: ((name: string) => void) | null = null;

  constructor(ctx: Pick<AppContext, 'db' | 'config' | 'log' | 'bus' | 'yjs'>) {
    this.hub = ctx.yjs;
    this.db = ctx.db;
    this.log = ctx.log.child({ domain: 'annotations' });
    const onOpen = (name: string) => this.guard(name);
    const validate = (ctx: YjsValidateContext) => this.validate(ctx);
    this.hub.registerKind(privateLayerKind(onOpen, validate));
    this.hub.registerKind(sharedLayerKind(onOpen, validate));
    const onDocument = (e: { documentId: number; change: 'version' | 'access' | 'removed' }) => this.onDocumentChanged(e);
    ctx.bus.on('document:changed', onDocument);
    this.unsubscribe = () => ctx.bus.off('document:changed', onDocument);
  }

  /**
   * Follows the documents domain's bus event (`document:changed`, emitted after the commit): a new
   * version → carry every layer of the document to it; access changed or removed → re-check the
   * layer connections of that document, so a member taken off a document loses its layers at once.
   * (This replaced a 1 s poll of `document_versions` and the audit log.)
   */
  private onDocumentChanged({ documentId, change }: { documentId: number; change: 'version' | 'access' | 'removed' }): void {
    try {
      if (change === 'version') {
        this.versionCache.delete(documentId);
        this.carryDocument(documentId);
      } else {
        const prefix = `annotation:${documentId}:`;
        for (const name of this.byName.keys()) if (name.startsWith(prefix)) this.hub.recheck({ docName: name });
      }
    } catch (err) {
      this.log.error({ err, documentId, change }, 'annotations: following a document change failed');
    }
  }

  /** Stops following document changes (the server closes). */
  stop(): void {
    this.unsubscribe();
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
    const g: Guarded = { ref, keys: new Map(), dirty: new Set() };
    for (const [mapName] of ydoc.share) {
      if (parseItemsMapName(mapName) === null) continue;
      g.keys.set(mapName, new Set(ydoc.getMap(mapName).keys()));
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
   * After every transaction on a layer doc (all of it already validated before it was applied, or
   * a trusted server write): keeps the key sets and the projection's dirty set in step, and
   * forwards client changes that landed on an already carried version to the newer versions
   * (offline edits). O(changed keys).
   */
  private afterTransaction(name: string, ydoc: Y.Doc, g: Guarded, tr: Y.Transaction): void {
    const fromClient = tr.origin !== SERVER_ORIGIN && !!(tr.origin as { user?: AuthUser } | null)?.user;
    const carry = fromClient && ydoc.share.has(CARRY_MAP) && ydoc.getMap(CARRY_MAP).size > 0;
    let roots: Map<Y.AbstractType<any>, string> | null = null;
    let byMap: Map<string, { key: string; value: unknown }[]> | null = null;
    for (const [type, keys] of tr.changed) {
      if ((type as Y.AbstractType<any>)._item !== null) continue;
      if (!roots) {
        roots = new Map();
        for (const [n, t] of ydoc.share) roots.set(t, n);
      }
      const rootName = roots.get(type as Y.AbstractType<any>);
      if (rootName === undefined || parseItemsMapName(rootName) === null) continue;
      const map = ydoc.getMap<unknown>(rootName); // (a root a client created is an untyped AbstractType until getMap)
      let set = g.keys.get(rootName);
      if (!set) g.keys.set(rootName, (set = new Set()));
      for (const key of keys) {
        if (key === null) continue;
        const value = map.get(key);
        if (value === undefined) set.delete(key);
        else set.add(key);
        g.dirty.add(`${rootName}\u0000${key}`);
        if (carry) {
          byMap ??= new Map();
          const list = byMap.get(rootName) ?? [];
          list.push({ key, value });
          byMap.set(rootName, list);
        }
      }
    }
    // Offline edits made on a version that was replaced meanwhile: carry them forward too.
    if (byMap) for (const [mapName, list] of byMap) this.forward(ydoc, parseItemsMapName(mapName)!, list, new Set());
    if (fromClient) this.onDirty?.(name);
  }

  /** The version row of a document, looking again once when it is not cached (a new upload). */
  private version(documentId: number, versionId: number) {
    let v = this.versions(documentId).find((x) => x.id === versionId);
    if (!v) {
      this.versionCache.delete(documentId);
      v = this.versions(documentId).find((x) => x.id === versionId);
    }
    return v;
  }

  /**
   * The layer guard, run by the hub on every client update BEFORE it is applied (`validate` of
   * both layer kinds): every item the update writes must pass `refusal` against the item it
   * replaces (the live value of its key); every deletion of a live item as well; writes to the
   * `carry` map, to any root that is not an items map of one of the document's versions, list
   * content and nested types are refused. Refused parts never reach the document (the hub turns
   * them into GC tombstones). O(update): each struct's map key comes from the update itself or
   * from one lookup of its origin; the sizes come from the key sets.
   */
  validate(ctx: YjsValidateContext): YjsRefusal[] | null {
    const ydoc = ctx.ydoc;
    const g = this.guarded.get(ydoc) ?? (this.guard(ctx.name), this.guarded.get(ydoc)!);
    const { user } = ctx;
    const ref = g.ref;
    const store = ydoc.store;
    const groups = groupByClient(ctx.structs);
    const refusals: YjsRefusal[] = [];
    let canManage: boolean | null = null;
    const manager = () => {
      if (canManage === null) {
        try {
          canManage = documentAccess(this.db, user, ref.documentId).canManage;
        } catch {
          canManage = false;
        }
      }
      return canManage;
    };
    let roots: Map<Y.AbstractType<any>, string> | null = null;
    const rootName = (t: Y.AbstractType<any>): string | null => {
      if (!roots) {
        roots = new Map();
        for (const [n, type] of ydoc.share) roots.set(type, n);
      }
      return roots.get(t) ?? null;
    };
    // Where a struct lands: a root map and key, nowhere ('gc': it integrates as a GC), or 'nested'.
    type Place = { root: string; key: string | null } | 'gc' | 'nested';
    const memo = new Map<Struct, Place>();
    const ofStored = (id: Y.ID): Place => {
      const st = Y.getItem(store, id) as Struct;
      if (!(st instanceof Y.Item)) return 'gc';
      const parent = st.parent as Y.AbstractType<any>;
      if (parent._item !== null) return 'nested';
      const root = rootName(parent);
      return root === null ? 'nested' : { root, key: st.parentSub };
    };
    const placeOf = (first: Y.Item): Place => {
      // Follow origins iteratively (an update may chain many structs).
      const chain: Struct[] = [];
      let cur: Struct | null = first;
      let place: Place | undefined;
      while (place === undefined) {
        if (cur === null || !(cur instanceof Y.Item)) {
          place = 'gc';
          break;
        }
        const known = memo.get(cur);
        if (known) {
          place = known;
          break;
        }
        chain.push(cur);
        if (typeof cur.parent === 'string') place = { root: cur.parent, key: cur.parentSub };
        else if (cur.parent instanceof Y.ID) place = 'nested';
        else {
          const id: Y.ID | null = cur.origin ?? cur.rightOrigin;
          if (id === null) place = 'nested';
          else if (id.clock < Y.getState(store, id.client)) place = ofStored(id);
          else cur = findInUpdate(groups, id);
        }
      }
      for (const c of chain) memo.set(c, place);
      return place;
    };
    const current = (root: string, key: string): unknown => {
      const type = ydoc.share.get(root);
      const item = type?._map.get(key);
      return item && !item.deleted ? item.content.getContent().at(-1) : undefined;
    };
    const newKeys = new Map<string, Set<string>>();
    const refusedKeys = new Set<string>();
    for (const st of ctx.structs) {
      if (!(st instanceof Y.Item)) continue;
      if (st.id.clock + st.length <= Y.getState(store, st.id.client)) continue; // already there: no effect
      const p = placeOf(st);
      if (p === 'gc') continue;
      const refuse = (reason: string) => {
        refusals.push({ reason, structs: [st] });
        if (typeof p === 'object' && p.key !== null) refusedKeys.add(`${p.root}\u0000${p.key}`);
      };
      if (p === 'nested') {
        refuse('nested content');
        continue;
      }
      if (p.root === CARRY_MAP) {
        refuse('carry map is written by the server only');
        continue;
      }
      const versionId = parseItemsMapName(p.root);
      const version = versionId === null ? undefined : this.version(ref.documentId, versionId);
      if (!version) {
        refuse('not an items map of this document');
        continue;
      }
      if (p.key === null) {
        refuse('list content in an items map');
        continue;
      }
      let after: unknown;
      if (!(st.content instanceof Y.ContentDeleted)) {
        if (!(st.content instanceof Y.ContentAny) || st.content.arr.length !== 1) {
          refuse('not a plain JSON item');
          continue;
        }
        after = st.content.arr[0];
      }
      const before = current(p.root, p.key);
      const keys = g.keys.get(p.root);
      let added = newKeys.get(p.root);
      if (!added) newKeys.set(p.root, (added = new Set()));
      if (before === undefined && !keys?.has(p.key)) added.add(p.key);
      const size = (keys?.size ?? 0) + added.size;
      const reason = this.refusal(ref, user, p.key, before, after, version.pageCount, size, manager);
      if (reason) {
        this.log.info({ doc: ctx.name, userId: user.id, item: p.key, reason }, 'annotations: change refused before it was applied');
        refuse(reason);
      }
    }
    // Deletions of live items: same ownership rule; a key whose new value was refused keeps its old one.
    for (const [client, ranges] of ctx.ds.clients) {
      const structs = store.clients.get(client);
      if (!structs) continue;
      const state = Y.getState(store, client);
      for (const r of ranges) {
        if (r.clock >= state) continue; // structs of this update itself
        const end = r.clock + r.len;
        for (let i = Y.findIndexSS(structs, r.clock); i < structs.length && structs[i].id.clock < end; i++) {
          const st = structs[i];
          if (!(st instanceof Y.Item) || st.deleted) continue;
          const from = Math.max(r.clock, st.id.clock);
          const range = { client, clock: from, len: Math.min(end, st.id.clock + st.length) - from };
          const parent = st.parent as Y.AbstractType<any>;
          const root = parent._item === null ? rootName(parent) : null;
          if (root === CARRY_MAP) {
            refusals.push({ reason: 'carry map is written by the server only', deletes: [range] });
            continue;
          }
          if (root === null || st.parentSub === null || parseItemsMapName(root) === null) continue;
          if (parent._map.get(st.parentSub) !== st) continue;
          const reason = refusedKeys.has(`${root}\u0000${st.parentSub}`) ? 'replacement refused' : this.refusal(ref, user, st.parentSub, st.content.getContent().at(-1), undefined, 0, 0, manager);
          if (reason) {
            this.log.info({ doc: ctx.name, userId: user.id, item: st.parentSub, reason }, 'annotations: deletion refused before it was applied');
            refusals.push({ reason, deletes: [range] });
          }
        }
      }
    }
    return refusals.length ? refusals : null;
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

function parseRef(name: string): LayerRef {
  const m = /^annotation:(\d+):(private|shared):(\d+)$/.exec(name);
  if (!m) throw new Error(`not an annotation layer: ${name}`);
  return m[2] === 'private' ? { documentId: Number(m[1]), layer: 'private', userId: Number(m[3]) } : { documentId: Number(m[1]), layer: 'shared', meetingId: Number(m[3]) };
}

/** The annotation layers of an app (`ctx.annotations`, created by the annotations module's `register`). */
export function annotationLayers(ctx: Pick<AppContext, 'annotations'>): AnnotationLayers {
  if (!ctx.annotations) throw new Error('the annotations module is not registered');
  return ctx.annotations.layers;
}
