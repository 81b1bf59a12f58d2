import * as Y from 'yjs';
import { ANNOTATION_LIMITS, AnnotationItem, type LayerRef, parseItemsMapName } from '../../shared/protocol/annotations.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Logger } from '../log.js';
import { findInUpdate, groupByClient, type Struct } from '../yjs/yjs.filter.js';
import type { YjsRefusal, YjsValidateContext } from '../yjs/yjs.registry.js';
import { CARRY_MAP } from './annotations.kinds.js';
import type { DocumentVersions } from './annotations.versions.js';

/** What the guard knows about one loaded layer doc. */
export interface Guarded {
  ref: LayerRef;
  /** The item keys of every items map (Y.Map.size is O(n); this is O(1)), kept in step after each transaction. */
  keys: Map<string, Set<string>>;
  /** Item keys changed since the last projection, as `<mapName>\u0000<itemId>`. */
  dirty: Set<string>;
}

/** What the guard reads besides the update: managers' rights, the document's versions (cached); where it logs. */
export interface GuardDeps {
  /** Whether the user manages the document, as their connection's last access check found (synchronous). */
  canManage: (user: AuthUser, documentId: number) => boolean;
  versions: DocumentVersions;
  log: Logger;
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
export function validateLayerUpdate(ctx: YjsValidateContext, g: Guarded, deps: GuardDeps): YjsRefusal[] | null {
  const ydoc = ctx.ydoc;
  const { user } = ctx;
  const ref = g.ref;
  const store = ydoc.store;
  const groups = groupByClient(ctx.structs);
  const refusals: YjsRefusal[] = [];
  const manager = () => deps.canManage(user, ref.documentId);
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
    const version = versionId === null ? undefined : deps.versions.cached(ref.documentId, versionId);
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
    const reason = refusal(ref, user, p.key, before, after, version.pageCount, size, manager);
    if (reason) {
      deps.log.info({ doc: ctx.name, userId: user.id, item: p.key, reason }, 'annotations: change refused before it was applied');
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
        const reason = refusedKeys.has(`${root}\u0000${st.parentSub}`) ? 'replacement refused' : refusal(ref, user, st.parentSub, st.content.getContent().at(-1), undefined, 0, 0, manager);
        if (reason) {
          deps.log.info({ doc: ctx.name, userId: user.id, item: st.parentSub, reason }, 'annotations: deletion refused before it was applied');
          refusals.push({ reason, deletes: [range] });
        }
      }
    }
  }
  return refusals.length ? refusals : null;
}

/** Why a client's change of one item is refused, or null when it is accepted. */
function refusal(ref: LayerRef, user: AuthUser, key: string, before: unknown, after: unknown, pageCount: number, mapSize: number, manager: () => boolean): string | null {
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
