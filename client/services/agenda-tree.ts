import type { AgendaItem } from '../../shared/protocol/agenda.js';

/** Depth (0 = top level) of each item of an agenda given in display order. */
export function depths(items: AgendaItem[]): Map<number, number> {
  const d = new Map<number, number>();
  for (const it of items) d.set(it.id, it.parentId == null ? 0 : (d.get(it.parentId) ?? 0) + 1);
  return d;
}

/** Children of `parentId` (null = top level) in position order. */
export function siblings(items: AgendaItem[], parentId: number | null): AgendaItem[] {
  return items.filter((i) => i.parentId === parentId).sort((a, b) => a.position - b.position);
}

/** True when `id` is `ancestorId` or lies below it. */
export function isWithin(items: AgendaItem[], id: number, ancestorId: number): boolean {
  const byId = new Map(items.map((i) => [i.id, i]));
  for (let cur: AgendaItem | undefined = byId.get(id); cur; cur = cur.parentId == null ? undefined : byId.get(cur.parentId)) {
    if (cur.id === ancestorId) return true;
  }
  return false;
}
