/** Pure agenda tree rules shared by the server (validation) and the client (drag and drop). */

export interface TreeNode {
  id: number;
  parentId: number | null;
  position: number;
}

/** Items in display order (depth-first, by position), each with its dotted number ("2.1"). */
export function orderAgenda<T extends TreeNode>(items: T[]): (T & { number: string; depth: number })[] {
  const children = new Map<number | null, T[]>();
  for (const it of items) {
    const list = children.get(it.parentId) ?? [];
    list.push(it);
    children.set(it.parentId, list);
  }
  for (const list of children.values()) list.sort((a, b) => a.position - b.position || a.id - b.id);
  const out: (T & { number: string; depth: number })[] = [];
  const seen = new Set<number>();
  const walk = (parentId: number | null, prefix: string, depth: number) => {
    (children.get(parentId) ?? []).forEach((it, i) => {
      if (seen.has(it.id)) return; // defensive: a cycle must never loop forever
      seen.add(it.id);
      const number = prefix ? `${prefix}.${i + 1}` : String(i + 1);
      out.push({ ...it, number, depth });
      walk(it.id, number, depth + 1);
    });
  };
  walk(null, '', 0);
  return out;
}

/** True when `nodeId` is `ancestorId` itself or lies anywhere below it. */
export function isSelfOrDescendant(items: TreeNode[], ancestorId: number, nodeId: number | null): boolean {
  const parent = new Map(items.map((i) => [i.id, i.parentId]));
  let cur: number | null | undefined = nodeId;
  const guard = new Set<number>();
  while (cur != null && !guard.has(cur)) {
    if (cur === ancestorId) return true;
    guard.add(cur);
    cur = parent.get(cur);
  }
  return false;
}

/** Depth of a node: 0 for top-level items. */
export function depthOf(items: TreeNode[], id: number | null): number {
  const parent = new Map(items.map((i) => [i.id, i.parentId]));
  let d = -1;
  let cur: number | null | undefined = id;
  const guard = new Set<number>();
  while (cur != null && !guard.has(cur)) {
    guard.add(cur);
    d++;
    cur = parent.get(cur);
  }
  return d;
}

/** Height of the subtree rooted at `id` (a leaf has height 1). */
export function subtreeHeight(items: TreeNode[], id: number): number {
  const kids = items.filter((i) => i.parentId === id);
  return 1 + Math.max(0, ...kids.map((k) => subtreeHeight(items, k.id)));
}
