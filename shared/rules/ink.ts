/**
 * Pure geometry of the pen and the eraser, in PDF user space (points): smoothing raw pointer
 * samples into ink, thinning them to the stored point budget, and hit-testing strokes.
 * Used by the annotation layer in the browser; tested in test/unit/anchoring-ink.test.ts.
 */
import { ANNOTATION_LIMITS } from '../protocol/annotations.js';

/**
 * Smooths raw samples `[x0, y0, x1, y1, …]` with an exponential moving average (`factor` 0..1, the
 * weight of the new sample), keeping the first and last points exact so strokes start and end
 * where the pen touched. Jitter of a finger or a cheap stylus disappears; corners stay readable.
 */
export function smoothStroke(points: number[], factor = 0.5): number[] {
  const n = points.length / 2;
  if (n <= 2) return points.slice();
  const out = [points[0], points[1]];
  let x = points[0];
  let y = points[1];
  for (let i = 1; i < n - 1; i++) {
    x = x + factor * (points[2 * i] - x);
    y = y + factor * (points[2 * i + 1] - y);
    out.push(x, y);
  }
  out.push(points[2 * n - 2], points[2 * n - 1]);
  return out;
}

/** Distance from point p to segment ab. */
export function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  const cx = ax + t * dx;
  const cy = ay + t * dy;
  return Math.hypot(px - cx, py - cy);
}

/**
 * Ramer–Douglas–Peucker simplification with tolerance `epsilon` (points), iterative (no
 * recursion depth limit on long strokes). Keeps the endpoints.
 */
export function simplifyStroke(points: number[], epsilon: number): number[] {
  const n = points.length / 2;
  if (n <= 2) return points.slice();
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    let maxD = -1;
    let idx = -1;
    for (let i = a + 1; i < b; i++) {
      const d = distanceToSegment(points[2 * i], points[2 * i + 1], points[2 * a], points[2 * a + 1], points[2 * b], points[2 * b + 1]);
      if (d > maxD) {
        maxD = d;
        idx = i;
      }
    }
    if (idx >= 0 && maxD > epsilon) {
      keep[idx] = 1;
      stack.push([a, idx], [idx, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(points[2 * i], points[2 * i + 1]);
  return out;
}

/**
 * Raw pointer samples → the points stored for one stroke: smoothed, simplified, rounded to 0.1 pt
 * and within `ANNOTATION_LIMITS.pointsPerStroke` (the tolerance grows until it fits).
 */
export function finishStroke(raw: number[]): number[] {
  let eps = 0.2;
  let pts = simplifyStroke(smoothStroke(raw), eps);
  while (pts.length / 2 > ANNOTATION_LIMITS.pointsPerStroke) {
    eps *= 2;
    pts = simplifyStroke(pts, eps);
  }
  return pts.map((v) => Math.round(v * 10) / 10);
}

/** True when the circle (x, y, r) touches the stroke (its centre line widened by half its width). */
export function strokeHit(points: number[], width: number, x: number, y: number, r: number): boolean {
  const reach = r + width / 2;
  if (points.length === 2) return Math.hypot(points[0] - x, points[1] - y) <= reach;
  for (let i = 0; i + 3 < points.length; i += 2) {
    if (distanceToSegment(x, y, points[i], points[i + 1], points[i + 2], points[i + 3]) <= reach) return true;
  }
  return false;
}

/** An SVG path `d` for a stroke (straight segments between the smoothed points). */
export function strokePath(points: number[]): string {
  if (points.length < 2) return '';
  let d = `M${points[0]} ${points[1]}`;
  if (points.length === 2) return `${d}l0.01 0`;
  for (let i = 2; i + 1 < points.length; i += 2) d += `L${points[i]} ${points[i + 1]}`;
  return d;
}
