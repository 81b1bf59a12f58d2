import { describe, expect, it } from 'vitest';
import { ANNOTATION_LIMITS, AnnotationItem } from '../../shared/protocol/annotations.js';
import { distanceToSegment, finishStroke, simplifyStroke, smoothStroke, strokeHit, strokePath } from '../../shared/rules/ink.js';

describe('ink geometry', () => {
  it('smoothing keeps both endpoints and damps jitter', () => {
    const raw: number[] = [];
    for (let i = 0; i <= 50; i++) raw.push(i * 2, 100 + (i % 2 ? 3 : -3));
    const s = smoothStroke(raw);
    expect(s.slice(0, 2)).toEqual(raw.slice(0, 2));
    expect(s.slice(-2)).toEqual(raw.slice(-2));
    const dev = (p: number[]) => Math.max(...p.filter((_, i) => i % 2 === 1).slice(5, -5).map((y) => Math.abs(y - 100)));
    expect(dev(s)).toBeLessThan(dev(raw));
  });

  it('simplification drops collinear points and keeps corners', () => {
    const line = [0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 4, 1, 4, 2, 4, 3];
    expect(simplifyStroke(line, 0.1)).toEqual([0, 0, 4, 0, 4, 3]);
  });

  it('a very long stroke is thinned to the stored point budget and validates', () => {
    const raw: number[] = [];
    for (let i = 0; i < 20_000; i++) raw.push(300 + 200 * Math.cos(i / 50) + Math.sin(i) * 0.3, 400 + 200 * Math.sin(i / 37));
    const pts = finishStroke(raw);
    expect(pts.length / 2).toBeLessThanOrEqual(ANNOTATION_LIMITS.pointsPerStroke);
    const item = { id: 'ink_123456', kind: 'ink', page: 1, points: pts, color: '#212529', width: 2, createdAt: 1 };
    expect(AnnotationItem.safeParse(item).success).toBe(true);
  });

  it('a tap is a one-point stroke that still draws and can be erased', () => {
    expect(finishStroke([10, 10])).toEqual([10, 10]);
    expect(strokePath([10, 10])).toBe('M10 10l0.01 0');
    expect(strokeHit([10, 10], 2, 11, 10, 0.5)).toBe(true);
  });

  it('the eraser hits a stroke within its radius plus half the stroke width, not farther', () => {
    const s = [0, 0, 100, 0];
    expect(strokeHit(s, 4, 50, 5, 3)).toBe(true);
    expect(strokeHit(s, 4, 50, 5.1, 3)).toBe(false);
    expect(distanceToSegment(150, 0, 0, 0, 100, 0)).toBe(50);
  });
});
