import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/**
 * Pre-apply helpers of the hub's `validate` hook: work on a decoded update (`Y.decodeUpdate`)
 * against a live document without applying anything, and re-encode an update with parts of it
 * replaced by GC tombstones. Everything here is O(update) (plus a binary search per reference).
 */

export type Struct = Y.Item | Y.GC | Y.Skip;
export type DeleteRanges = Map<number, { clock: number; len: number }[]>;

/** Structs of an update grouped per client, in clock order (as `Y.decodeUpdate` yields them). */
export function groupByClient(structs: Struct[]): Map<number, Struct[]> {
  const out = new Map<number, Struct[]>();
  for (const s of structs) {
    let list = out.get(s.id.client);
    if (!list) out.set(s.id.client, (list = []));
    list.push(s);
  }
  return out;
}

/**
 * True when the update can integrate completely right now: per client its structs continue the
 * document's clock without a gap, and every origin / right origin / parent id and every deleted
 * range refers to something the document has or the update itself carries. An update that fails
 * this would wait in memory (Yjs "pending") and integrate later, after validation: the hub drops it
 * and asks the client for a fresh sync step 2 instead.
 */
export function integrable(store: Y.Doc['store'], groups: Map<number, Struct[]>, ds: DeleteRanges): boolean {
  const end = new Map<number, number>();
  for (const [client, list] of groups) {
    const state = Y.getState(store, client);
    let clock = list[0].id.clock;
    if (clock > state) return false;
    for (const s of list) {
      if (s.id.clock !== clock) return false;
      clock += s.length;
    }
    end.set(client, Math.max(state, clock));
  }
  const known = (id: Y.ID | null) => id === null || id.clock < (end.get(id.client) ?? Y.getState(store, id.client));
  for (const list of groups.values())
    for (const s of list) {
      if (!(s instanceof Y.Item)) continue;
      if (!known(s.origin) || !known(s.rightOrigin)) return false;
      if (s.parent instanceof Y.ID && !known(s.parent)) return false;
    }
  for (const [client, ranges] of ds) {
    const limit = end.get(client) ?? Y.getState(store, client);
    for (const r of ranges) if (r.clock + r.len > limit) return false;
  }
  return true;
}

/** The struct of an update that contains `id`, or null. */
export function findInUpdate(groups: Map<number, Struct[]>, id: Y.ID): Struct | null {
  const list = groups.get(id.client);
  if (!list) return null;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = list[mid];
    if (id.clock < s.id.clock) hi = mid - 1;
    else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
    else return s;
  }
  return null;
}

/** Removes `cut` ranges from `ranges` (both sorted or not; small lists). */
function subtract(ranges: { clock: number; len: number }[], cut: { clock: number; len: number }[]): { clock: number; len: number }[] {
  let out = ranges.map((r) => ({ clock: r.clock, len: r.len }));
  for (const c of cut) {
    const next: { clock: number; len: number }[] = [];
    for (const r of out) {
      const rEnd = r.clock + r.len;
      const cEnd = c.clock + c.len;
      if (cEnd <= r.clock || c.clock >= rEnd) {
        next.push(r);
        continue;
      }
      if (c.clock > r.clock) next.push({ clock: r.clock, len: c.clock - r.clock });
      if (cEnd < rEnd) next.push({ clock: cEnd, len: rEnd - cEnd });
    }
    out = next;
  }
  return out;
}

function writeDeleteSet(enc: Y.UpdateEncoderV1, ds: DeleteRanges): void {
  const clients = [...ds].filter(([, r]) => r.length > 0).sort((a, b) => b[0] - a[0]);
  encoding.writeVarUint(enc.restEncoder, clients.length);
  for (const [client, ranges] of clients) {
    encoding.writeVarUint(enc.restEncoder, client);
    encoding.writeVarUint(enc.restEncoder, ranges.length);
    for (const r of ranges) {
      enc.writeDsClock(r.clock);
      enc.writeDsLen(r.len);
    }
  }
}

/**
 * Re-encodes an update (v1) with the `refused` structs replaced by GC structs of the same clock
 * range (content gone, clocks kept so the client's later updates still integrate) and the
 * `refusedDeletes` ranges removed from its delete set.
 */
export function tombstoneUpdate(groups: Map<number, Struct[]>, ds: DeleteRanges, refused: Set<Struct>, refusedDeletes: DeleteRanges): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  const clients = [...groups].sort((a, b) => b[0] - a[0]);
  encoding.writeVarUint(enc.restEncoder, clients.length);
  for (const [client, list] of clients) {
    encoding.writeVarUint(enc.restEncoder, list.length);
    enc.writeClient(client);
    encoding.writeVarUint(enc.restEncoder, list[0].id.clock);
    for (const s of list) (refused.has(s) ? new Y.GC(s.id, s.length) : s).write(enc, 0);
  }
  const kept: DeleteRanges = new Map();
  for (const [client, ranges] of ds) {
    const cut = refusedDeletes.get(client);
    kept.set(client, cut ? subtract(ranges, cut) : ranges);
  }
  writeDeleteSet(enc, kept);
  return enc.toUint8Array();
}

/** An update that only deletes `ranges` (sent to a sender so its replica drops what was refused). */
export function deleteOnlyUpdate(ranges: DeleteRanges): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  encoding.writeVarUint(enc.restEncoder, 0);
  writeDeleteSet(enc, ranges);
  return enc.toUint8Array();
}
