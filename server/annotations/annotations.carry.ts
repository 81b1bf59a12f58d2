import type * as Y from 'yjs';
import { AnnotationItem, itemsMapName } from '../../shared/protocol/annotations.js';
import { reanchorItem } from '../../shared/rules/anchoring.js';
import type { Logger } from '../log.js';
import { SERVER_ORIGIN, type YjsHub } from '../yjs/yjs.hub.js';
import { CARRY_MAP, parseRef } from './annotations.kinds.js';
import type { DocumentVersions } from './annotations.versions.js';

/**
 * Carrying annotations to a new version of their document: once per layer and version (`carry`
 * records it in the layer's `carry` map), and later arrivals on a replaced version forwarded
 * (`forward`, offline edits). Items are re-anchored to the new version's text.
 */
export class LayerCarry {
  constructor(
    private readonly hub: YjsHub,
    private readonly versions: DocumentVersions,
    private readonly log: Logger,
  ) {}

  /**
   * Brings one layer doc to the document's current version: when the current version's map was
   * never filled by a carry, copies every item of the newest earlier version that has items,
   * re-anchored; items someone already drew on the new version are kept. Records the carry in
   * `carry` so it happens once; later arrivals on the old version are forwarded by the guard.
   */
  async carry(name: string): Promise<void> {
    const ref = parseRef(name);
    const current = this.versions.currentId(ref.documentId);
    if (!current) return;
    const ydoc = await this.hub.getDoc(name);
    const carry = ydoc.getMap<number>(CARRY_MAP);
    if (carry.has(String(current))) return;
    if (!this.versions.find(ref.documentId, current)) return;
    const order = this.versions.list(ref.documentId);
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
      if (idx > 0) await this.hub.withDoc(name, (d) => d.getMap<number>(CARRY_MAP).set(String(current), order[idx - 1].id));
      return;
    }
    const src = ydoc.getMap(itemsMapName(from));
    const change = this.versions.change(from, current);
    const fromId = from;
    await this.hub.withDoc(name, (d) => {
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

  /** Writes client changes of version `fromVersion`'s items to every version carried from it, re-anchored, recursively. */
  forward(ydoc: Y.Doc, fromVersion: number, list: { key: string; value: unknown }[], seen: Set<number>): void {
    for (const to of this.carriedTargets(ydoc, fromVersion)) {
      if (seen.has(to)) continue;
      seen.add(to);
      const change = this.versions.change(fromVersion, to);
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

  /** Versions that were carried from `versionId`, directly. */
  private carriedTargets(ydoc: Y.Doc, versionId: number): number[] {
    const out: number[] = [];
    if (!ydoc.share.has(CARRY_MAP)) return out;
    ydoc.getMap<number>(CARRY_MAP).forEach((from, to) => {
      if (from === versionId) out.push(Number(to));
    });
    return out;
  }
}
