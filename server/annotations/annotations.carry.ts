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
  /** Per layer doc name: the forward still waiting for text changes to be read (`forward`). */
  private forwarding = new Map<string, Promise<void>>();

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
    const current = await this.versions.currentId(ref.documentId);
    if (!current) return;
    const ydoc = await this.hub.getDoc(name);
    const carry = ydoc.getMap<number>(CARRY_MAP);
    if (carry.has(String(current))) return;
    if (!(await this.versions.find(ref.documentId, current))) return;
    const order = await this.versions.list(ref.documentId);
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
    const change = await this.versions.change(from, current);
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

  /**
   * Writes client changes of version `fromVersion`'s items to every version carried from it,
   * re-anchored, recursively. At once when the text changes it needs are cached (they are, once the
   * layer was carried in this process); otherwise after reading them, through `withDoc`. Forwards of
   * one layer keep their order.
   */
  forward(name: string, ydoc: Y.Doc, fromVersion: number, list: { key: string; value: unknown }[]): void {
    const queued = this.forwarding.get(name);
    if (!queued && this.pairs(ydoc, fromVersion).every(([from, to]) => this.versions.cachedChange(from, to))) return this.forwardNow(ydoc, fromVersion, list, new Set());
    const next = (queued ?? Promise.resolve())
      .then(async () => {
        // Read on the live doc: it may have been carried further (or reloaded) meanwhile.
        for (const [from, to] of this.pairs(await this.hub.getDoc(name), fromVersion)) await this.versions.change(from, to);
        await this.hub.withDoc(name, (d) => this.forwardNow(d, fromVersion, list, new Set()));
      })
      .catch((err: unknown) => this.log.error({ err, doc: name, fromVersion }, 'annotations: forwarding items to newer versions failed'))
      .finally(() => {
        if (this.forwarding.get(name) === next) this.forwarding.delete(name);
      });
    this.forwarding.set(name, next);
  }

  /** The (from, to) version pairs a forward from `fromVersion` goes through. */
  private pairs(ydoc: Y.Doc, fromVersion: number, seen = new Set<number>()): [number, number][] {
    const out: [number, number][] = [];
    for (const to of this.carriedTargets(ydoc, fromVersion)) {
      if (seen.has(to)) continue;
      seen.add(to);
      out.push([fromVersion, to], ...this.pairs(ydoc, to, seen));
    }
    return out;
  }

  /** `forward` with every text change it needs cached. */
  private forwardNow(ydoc: Y.Doc, fromVersion: number, list: { key: string; value: unknown }[], seen: Set<number>): void {
    for (const to of this.carriedTargets(ydoc, fromVersion)) {
      if (seen.has(to)) continue;
      seen.add(to);
      const change = this.versions.cachedChange(fromVersion, to);
      if (!change) throw new Error(`text change ${fromVersion}>${to} not read`);
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
      this.forwardNow(ydoc, to, moved, seen);
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
