import { describe, expect, it } from 'vitest';
import { depthOf, isSelfOrDescendant, orderAgenda, subtreeHeight } from '../../shared/rules/agenda.js';

const items = [
  { id: 1, parentId: null, position: 1 },
  { id: 2, parentId: null, position: 0 },
  { id: 3, parentId: 1, position: 0 },
  { id: 4, parentId: 3, position: 0 },
  { id: 5, parentId: 1, position: 1 },
];

describe('agenda tree rules', () => {
  it('orders depth-first by position and numbers items', () => {
    expect(orderAgenda(items).map((i) => `${i.number}:${i.id}`)).toEqual(['1:2', '2:1', '2.1:3', '2.1.1:4', '2.2:5']);
  });
  it('detects self and descendants', () => {
    expect(isSelfOrDescendant(items, 1, 4)).toBe(true);
    expect(isSelfOrDescendant(items, 1, 1)).toBe(true);
    expect(isSelfOrDescendant(items, 3, 5)).toBe(false);
    expect(isSelfOrDescendant(items, 1, null)).toBe(false);
  });
  it('computes depth and subtree height', () => {
    expect(depthOf(items, 4)).toBe(2);
    expect(depthOf(items, 2)).toBe(0);
    expect(subtreeHeight(items, 1)).toBe(3);
    expect(subtreeHeight(items, 5)).toBe(1);
  });
  it('never loops on a corrupted cycle', () => {
    const cyc = [
      { id: 1, parentId: 2, position: 0 },
      { id: 2, parentId: 1, position: 0 },
    ];
    expect(orderAgenda(cyc)).toEqual([]);
    expect(isSelfOrDescendant(cyc, 3, 1)).toBe(false);
  });
});
