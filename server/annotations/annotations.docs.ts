import { and, gte, lt } from 'drizzle-orm';
import type * as Y from 'yjs';
import { parseItemsMapName } from '../../shared/protocol/annotations.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { DocumentAccess } from '../documents/documents.access.js';
import { yjsUpdates } from '../db/tables.js';
import type { Logger } from '../log.js';
import { SERVER_ORIGIN, type YjsHub } from '../yjs/yjs.hub.js';
import type { YjsRefusal, YjsValidateContext } from '../yjs/yjs.registry.js';
import { LayerCarry } from './annotations.carry.js';
import { type GuardDeps, type Guarded, validateLayerUpdate } from './annotations.guard.js';
import { CARRY_MAP, parseRef, privateLayerKind, sharedLayerKind } from './annotations.kinds.js';
import { DocumentVersions } from './annotations.versions.js';

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
  /**
   * `canManage` by document, per user object of the hub's connections: the hub hands `validate` the
   * same object its connection's last access check got (YjsValidateContext.user), so this is that check's answer.
   */
  private rights = new WeakMap<AuthUser, Map<number, boolean>>();
  private versions: DocumentVersions;
  private carrier: LayerCarry;
  private guardDeps: GuardDeps;
  private log: Logger;
  private store: AppContext['store'];
  private unsubscribe: () => void;
  /** Called after the guard accepted or reverted client changes (tests, projection). */
  onDirty: ((name: string) => void) | null = null;

  constructor(ctx: Pick<AppContext, 'store' | 'config' | 'log' | 'bus' | 'yjs'>) {
    this.hub = ctx.yjs;
    this.store = ctx.store;
    this.log = ctx.log.child({ domain: 'annotations' });
    // The guard (`validate`) runs synchronously inside the hub: it reads the document's versions from
    // the cache the kinds' `open` step filled, and managers' rights as the connection's last access check found them.
    this.versions = new DocumentVersions(ctx.store);
    this.carrier = new LayerCarry(ctx.yjs, this.versions, this.log);
    this.guardDeps = { canManage: (user, documentId) => this.rights.get(user)?.get(documentId) ?? false, versions: this.versions, log: this.log };
    // Deciding access is a pure query; an admitted connection's layer is guarded and brought to the
    // document's current version in the kinds' `open` step, before the client's first sync.
    const hooks = {
      onOpen: async (name: string) => void (await this.guard(name)),
      validate: (ctx: YjsValidateContext) => this.validate(ctx),
      onAccess: (user: AuthUser, a: DocumentAccess) => {
        let byDocument = this.rights.get(user);
        if (!byDocument) this.rights.set(user, (byDocument = new Map()));
        byDocument.set(a.document.id, a.canManage);
      },
    };
    this.hub.registerKind(privateLayerKind(hooks));
    this.hub.registerKind(sharedLayerKind(hooks));
    const onDocument = (e: { documentId: number; change: 'version' | 'access' | 'removed' }) => void this.onDocumentChanged(e);
    ctx.bus.on('document:changed', onDocument);
    this.unsubscribe = () => ctx.bus.off('document:changed', onDocument);
  }

  /**
   * Follows the documents domain's bus event (`document:changed`, emitted after the commit): a new
   * version → carry every layer of the document to it; access changed or removed → re-check the
   * layer connections of that document, so a member taken off a document loses its layers at once.
   * (This replaced a 1 s poll of `document_versions` and the audit log.)
   */
  private async onDocumentChanged({ documentId, change }: { documentId: number; change: 'version' | 'access' | 'removed' }): Promise<void> {
    try {
      if (change === 'version') {
        await this.versions.added(documentId);
        await this.carryDocument(documentId);
      } else {
        const prefix = `annotation:${documentId}:`;
        for (const name of this.byName.keys())
          if (name.startsWith(prefix)) this.hub.recheck({ docName: name }).catch((err: unknown) => this.log.error({ err, documentId }, 'annotations: re-checking layer access failed'));
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
  async layerDocNames(documentId: number): Promise<string[]> {
    const prefix = `annotation:${documentId}:`;
    // ';' follows ':' in ASCII: a range scan of the (doc_name, id) index.
    const rows = await this.store.q
      .selectDistinct({ name: yjsUpdates.docName })
      .from(yjsUpdates)
      .where(and(gte(yjsUpdates.docName, prefix), lt(yjsUpdates.docName, `annotation:${documentId};`)));
    const names = new Set(rows.map((r) => r.name));
    for (const n of this.byName.keys()) if (n.startsWith(prefix)) names.add(n);
    return [...names];
  }

  /** Carries every layer of a document to its current version (idempotent). */
  async carryDocument(documentId: number): Promise<void> {
    for (const name of await this.layerDocNames(documentId)) await this.carrier.carry(name);
  }

  /** The live, guarded Y.Doc of a layer (loads it from the hub). */
  doc(name: string): Promise<Y.Doc> {
    return this.guard(name);
  }

  /**
   * Attaches the guard to the hub's live doc of a layer (once per Y.Doc instance: an unloaded and
   * reloaded doc gets a new one) and brings it to the document's current version.
   */
  async guard(name: string): Promise<Y.Doc> {
    // The guard reads the document's versions synchronously, from this cache.
    await this.versions.list(parseRef(name).documentId);
    const ydoc = await this.hub.getDoc(name);
    if (this.guarded.has(ydoc)) return ydoc;
    this.attach(name, ydoc);
    await this.carrier.carry(name);
    return ydoc;
  }

  /** Attaches the guard to a loaded layer's Y.Doc (once per instance). */
  private attach(name: string, ydoc: Y.Doc): void {
    if (this.guarded.has(ydoc)) return;
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
    if (byMap) for (const [mapName, list] of byMap) this.carrier.forward(name, ydoc, parseItemsMapName(mapName)!, list);
    if (fromClient) this.onDirty?.(name);
  }

  /** The layer guard of both kinds (`validate`): see `validateLayerUpdate` in annotations.guard.ts. */
  validate(ctx: YjsValidateContext): YjsRefusal[] | null {
    if (!this.guarded.has(ctx.ydoc)) this.attach(ctx.name, ctx.ydoc);
    const g = this.guarded.get(ctx.ydoc)!;
    return validateLayerUpdate(ctx, g, this.guardDeps);
  }
}

/** The annotation layers of an app (`ctx.annotations`, created by the annotations module's `register`). */
export function annotationLayers(ctx: Pick<AppContext, 'annotations'>): AnnotationLayers {
  if (!ctx.annotations) throw new Error('the annotations module is not registered');
  return ctx.annotations.layers;
}
