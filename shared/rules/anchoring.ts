/**
 * Re-anchoring annotations on a new version of a document: pure functions, no I/O.
 *
 * Given the page texts of the old and the new version and an annotation, find where the annotation
 * belongs on the new version. A highlight follows its quoted text (exact quote scored by its
 * context and its distance from where it was; then the old context around a changed quote; then an
 * approximate match of the quote); ink and notes follow the text they were drawn next to, or stay
 * at the same position on the corresponding page. Nothing is ever dropped: what cannot be found is
 * returned flagged `orphaned` on the nearest page, what was found changed is flagged `changed`.
 *
 * Matching ignores differences in whitespace (line breaks move between versions); offsets in the
 * results are offsets in the new page's text as given.
 */
import type { AnchorStatus, AnnotationItem, Rect, TextAnchor } from '../protocol/annotations.js';
import { ANNOTATION_LIMITS } from '../protocol/annotations.js';

/** Characters of context stored on either side of a quote. */
export const CONTEXT_CHARS = 32;
/** Quotes longer than this are matched approximately by their head and tail only. */
const FUZZY_MAX = 256;
/** Share of a quote's characters that may differ for an approximate match to count. */
const FUZZY_TOLERANCE = 0.25;
/** Page-text similarity above which an old page is taken to continue as a new page. */
const PAGE_SIMILARITY = 0.5;
/** How far (in pages) we look for the continuation of a page. */
const PAGE_WINDOW = 12;

/** Text with whitespace runs collapsed to one space, and where each character came from. */
interface Normalized {
  text: string;
  /** `map[i]` = index in the original string of normalized character `i`; `map[text.length]` = original length. */
  map: number[];
}

/** Collapses whitespace runs to one space (keeping offsets back to the original). */
export function normalizeWhitespace(s: string): Normalized {
  let text = '';
  const map: number[] = [];
  let inSpace = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (/\s/.test(c)) {
      if (!inSpace) {
        text += ' ';
        map.push(i);
      }
      inSpace = true;
    } else {
      text += c;
      map.push(i);
      inSpace = false;
    }
  }
  map.push(s.length);
  return { text, map };
}

const collapse = (s: string) => s.replace(/\s+/g, ' ');

/**
 * Builds the anchor of a selection `[start, end)` in a page's text, with context. Used by the
 * highlight tool and by re-anchoring. Throws RangeError on an empty or out-of-range selection.
 */
export function anchorFromRange(pageText: string, page: number, start: number, end: number): TextAnchor {
  if (!(start >= 0 && end > start && end <= pageText.length)) throw new RangeError('selection outside the page text');
  return {
    page,
    start,
    end,
    quote: pageText.slice(start, Math.min(end, start + ANNOTATION_LIMITS.quote)),
    prefix: pageText.slice(Math.max(0, start - CONTEXT_CHARS), start),
    suffix: pageText.slice(end, end + CONTEXT_CHARS),
  };
}

/** Result of re-anchoring one text anchor. */
export interface TextReanchor {
  anchor: TextAnchor;
  status: AnchorStatus;
}

/** Precomputed view of a document version's pages; build once per version with `indexPages`. */
export interface PageIndex {
  raw: string[];
  norm: Normalized[];
  words: Set<string>[];
}

/** Prepares page texts for repeated matching (normalization and word sets). */
export function indexPages(pages: string[]): PageIndex {
  const norm = pages.map(normalizeWhitespace);
  return { raw: pages, norm, words: norm.map((n) => new Set(n.text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1))) };
}

/** Jaccard similarity of two pages' word sets; identical texts (including two empty pages) are 1. */
function pageSimilarity(a: PageIndex, i: number, b: PageIndex, j: number): number {
  if (a.norm[i].text.trim() === b.norm[j].text.trim()) return 1;
  const wa = a.words[i];
  const wb = b.words[j];
  if (wa.size === 0 || wb.size === 0) return 0;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common++;
  return common / (wa.size + wb.size - common);
}

/**
 * For every old page (0-based), the 0-based new page that continues it, or -1 when the page is
 * gone. Pages are compared by text within a window around their position; a page of a document
 * without text (a scan) continues at the same index when that index still exists.
 */
export function mapPages(oldIdx: PageIndex, newIdx: PageIndex): number[] {
  const out: number[] = [];
  const n = newIdx.raw.length;
  for (let i = 0; i < oldIdx.raw.length; i++) {
    const noText = oldIdx.norm[i].text.trim() === '';
    if (noText) {
      out.push(i < n && newIdx.norm[i].text.trim() === '' ? i : -1);
      continue;
    }
    let best = -1;
    let bestScore = 0;
    const expected = Math.min(i, n - 1);
    for (let d = 0; d <= PAGE_WINDOW; d++) {
      for (const j of d === 0 ? [expected] : [expected - d, expected + d]) {
        if (j < 0 || j >= n) continue;
        const s = pageSimilarity(oldIdx, i, newIdx, j);
        if (s >= PAGE_SIMILARITY && (best === -1 || s > bestScore)) {
          best = j;
          bestScore = s;
        }
      }
      if (bestScore === 1) break;
    }
    out.push(best);
  }
  return out;
}

/** Length of the common suffix of `a` and `b`. */
function commonSuffix(a: string, b: string): number {
  let k = 0;
  while (k < a.length && k < b.length && a[a.length - 1 - k] === b[b.length - 1 - k]) k++;
  return k;
}
/** Length of the common prefix of `a` and `b`. */
function commonPrefix(a: string, b: string): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/** A match in normalized coordinates of one new page. */
interface Hit {
  page: number; // 0-based
  start: number;
  end: number;
  score: number;
}

/**
 * Approximate substring search (Sellers): the substring of `text` with the smallest edit distance
 * to `pattern`, if that distance is at most `maxErr`. O(|pattern| · |text|) time, O(|pattern|) space.
 */
export function approxSearch(text: string, pattern: string, maxErr: number): { start: number; end: number; errors: number } | null {
  const m = pattern.length;
  if (m === 0) return null;
  // prev[i] = distance of pattern[0..i) against the best substring ending at the current text position.
  let prev = new Int32Array(m + 1);
  let prevStart = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  let curStart = new Int32Array(m + 1);
  for (let i = 0; i <= m; i++) prev[i] = i;
  let best: { start: number; end: number; errors: number } | null = null;
  for (let j = 1; j <= text.length; j++) {
    cur[0] = 0;
    curStart[0] = j;
    const tc = text[j - 1];
    for (let i = 1; i <= m; i++) {
      const sub = prev[i - 1] + (pattern[i - 1] === tc ? 0 : 1);
      const del = cur[i - 1] + 1; // pattern char missing from text
      const ins = prev[i] + 1; // extra text char
      if (sub <= del && sub <= ins) {
        cur[i] = sub;
        curStart[i] = i === 1 ? j - 1 : prevStart[i - 1];
      } else if (ins <= del) {
        cur[i] = ins;
        curStart[i] = prevStart[i];
      } else {
        cur[i] = del;
        curStart[i] = curStart[i - 1];
      }
    }
    if (cur[m] <= maxErr && (!best || cur[m] < best.errors)) best = { start: curStart[m], end: j, errors: cur[m] };
    [prev, cur] = [cur, prev];
    [prevStart, curStart] = [curStart, prevStart];
    if (best?.errors === 0) break;
  }
  return best;
}

/** Candidate new pages for an anchor on old page `oldPage` (0-based), nearest first. */
function candidatePages(oldPage: number, pageMap: number[] | null, n: number): number[] {
  const mapped = pageMap?.[oldPage];
  const center = mapped !== undefined && mapped >= 0 ? mapped : Math.min(oldPage, n - 1);
  const order: number[] = [];
  for (let d = 0; d < n; d++) {
    if (center - d >= 0 && d > 0) order.push(center - d);
    if (center + d < n) order.push(center + d);
    if (center - d < 0 && center + d >= n) break;
  }
  return order;
}

/**
 * Re-anchors one text anchor on a new version. `pageMap` (from `mapPages`) says which new page
 * continues the anchor's old page; pass null when the old version's texts are not known.
 */
export function reanchorText(anchor: TextAnchor, newIdx: PageIndex, pageMap: number[] | null): TextReanchor {
  const n = newIdx.raw.length;
  const oldPage = anchor.page - 1;
  if (n === 0) return { anchor, status: 'orphaned' };
  const quote = collapse(anchor.quote);
  const prefix = collapse(anchor.prefix);
  const suffix = collapse(anchor.suffix);
  const pages = candidatePages(oldPage, pageMap, n);
  const rank = new Map(pages.map((p, r) => [p, r]));
  const expectedPage = pages[0];

  // 1. The exact quote, best placed by context and nearness.
  let best: Hit | null = null;
  const trimmedQuote = quote.trim();
  if (trimmedQuote.length > 0) {
    for (const p of pages) {
      const t = newIdx.norm[p].text;
      let from = 0;
      for (let guard = 0; guard < 2000; guard++) {
        const at = t.indexOf(trimmedQuote, from);
        if (at < 0) break;
        const ctx = commonSuffix(t.slice(Math.max(0, at - prefix.length), at).trimEnd(), prefix.trimEnd()) + commonPrefix(t.slice(at + trimmedQuote.length).trimStart(), suffix.trimStart());
        const distPages = rank.get(p) ?? n;
        const expectedAt = p === expectedPage ? offsetToNorm(newIdx.norm[p], anchor.start) : at;
        const score = ctx * 4 - distPages * 50 - Math.min(Math.abs(at - expectedAt), 5000) / 100;
        if (!best || score > best.score) best = { page: p, start: at, end: at + trimmedQuote.length, score };
        from = at + 1;
      }
    }
  }
  if (best) return { anchor: toAnchor(newIdx, best), status: 'ok' };

  // 2. The old context around a quote that changed: prefix … suffix on a nearby page.
  const pre = prefix.trim();
  const suf = suffix.trim();
  if (pre.length >= 8 && suf.length >= 8) {
    const maxGap = quote.length * 2 + 100;
    for (const p of pages.slice(0, 3)) {
      const t = newIdx.norm[p].text;
      let from = 0;
      for (let guard = 0; guard < 500; guard++) {
        const a = t.indexOf(pre, from);
        if (a < 0) break;
        const s = t.indexOf(suf, a + pre.length);
        if (s >= 0 && s - (a + pre.length) <= maxGap) {
          let start = a + pre.length;
          let end = s;
          while (start < end && t[start] === ' ') start++;
          while (end > start && t[end - 1] === ' ') end--;
          if (end > start) return { anchor: toAnchor(newIdx, { page: p, start, end, score: 0 }), status: 'changed' };
          break; // the quote was deleted between intact context
        }
        from = a + 1;
      }
    }
  }

  // 3. An approximate match of the quote on the page that continues the old one, or its neighbours.
  if (trimmedQuote.length >= 4) {
    for (const p of pages.slice(0, 3)) {
      const hit = fuzzyFind(newIdx.norm[p].text, trimmedQuote);
      if (hit) return { anchor: toAnchor(newIdx, { page: p, ...hit, score: 0 }), status: 'changed' };
    }
  }

  // 4. Not found: keep it on the page that continues the old one (or the nearest existing page).
  const mapped = pageMap?.[oldPage];
  const page = mapped !== undefined && mapped >= 0 ? mapped : Math.min(oldPage, n - 1);
  return { anchor: { ...anchor, page: page + 1 }, status: 'orphaned' };
}

/** Approximate match of a (possibly long) quote: whole when short, else head and tail in order. */
function fuzzyFind(text: string, quote: string): { start: number; end: number } | null {
  if (quote.length <= FUZZY_MAX) {
    const r = approxSearch(text, quote, Math.floor(quote.length * FUZZY_TOLERANCE));
    return r && r.end > r.start ? { start: r.start, end: r.end } : null;
  }
  const half = FUZZY_MAX / 2;
  const head = approxSearch(text, quote.slice(0, half), Math.floor(half * FUZZY_TOLERANCE));
  if (!head) return null;
  const rest = text.slice(head.end);
  const tail = approxSearch(rest, quote.slice(-half), Math.floor(half * FUZZY_TOLERANCE));
  if (!tail) return null;
  const end = head.end + tail.end;
  if (end - head.start > quote.length * 2) return null;
  return { start: head.start, end };
}

/** Offset in the original page text → offset in its normalized text. */
function offsetToNorm(n: Normalized, offset: number): number {
  let lo = 0;
  let hi = n.map.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (n.map[mid] < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A normalized-coordinates hit → an anchor in the new page's original text, with fresh context. */
function toAnchor(idx: PageIndex, hit: Hit): TextAnchor {
  const n = idx.norm[hit.page];
  const start = n.map[hit.start];
  const end = n.map[hit.end - 1] + 1;
  return anchorFromRange(idx.raw[hit.page], hit.page + 1, start, end);
}

/** Everything re-anchoring needs about the two versions; build once per version change. */
export interface VersionChange {
  oldVersionId: number;
  oldPages: PageIndex;
  newPages: PageIndex;
  pageMap: number[];
  /**
   * Optional geometry of the new version: rectangles (PDF user space) covering `[start, end)` of a
   * page's text, or null when unknown. Without it a moved highlight keeps its old rectangles and the
   * viewer redraws it from its text anchor.
   */
  rectsFor?: (page: number, start: number, end: number) => Rect[] | null;
}

/** Prepares a version change from the two versions' page texts. */
export function versionChange(oldVersionId: number, oldPages: string[], newPages: string[], rectsFor?: VersionChange['rectsFor']): VersionChange {
  const o = indexPages(oldPages);
  const nw = indexPages(newPages);
  return { oldVersionId, oldPages: o, newPages: nw, pageMap: mapPages(o, nw), rectsFor };
}

const worse = (a: AnchorStatus, b: AnchorStatus): AnchorStatus => (a === 'orphaned' || b === 'orphaned' ? 'orphaned' : a === 'changed' || b === 'changed' ? 'changed' : 'ok');

/**
 * Carries one annotation item to the new version. Always returns an item (never drops one): its
 * `page` and anchors are updated, and `carried` records the old version, the old page and the
 * outcome. An item already carried keeps the worst status it ever had, so a flag stays until its
 * owner edits the item (the client then removes `carried`).
 */
export function reanchorItem(item: AnnotationItem, change: VersionChange): AnnotationItem {
  const nPages = change.newPages.raw.length;
  const oldPage0 = item.page - 1;
  const previous = item.carried?.status;
  const carry = (status: AnchorStatus, previousQuote?: string) => ({
    fromVersionId: change.oldVersionId,
    status: previous ? worse(previous, status) : status,
    previousPage: item.page,
    ...(previousQuote !== undefined ? { previousQuote: previousQuote.slice(0, ANNOTATION_LIMITS.quote) } : {}),
  });

  if (item.kind === 'highlight') {
    const r = reanchorText(item.anchor, change.newPages, change.pageMap);
    const moved = r.anchor.page !== item.anchor.page || r.anchor.start !== item.anchor.start || r.anchor.end !== item.anchor.end;
    const rects = moved && r.status !== 'orphaned' ? (change.rectsFor?.(r.anchor.page, r.anchor.start, r.anchor.end) ?? item.rects) : item.rects;
    return {
      ...item,
      page: r.anchor.page,
      anchor: r.anchor,
      rects: rects.length > 0 ? rects.slice(0, ANNOTATION_LIMITS.rectsPerHighlight) : item.rects,
      carried: carry(r.status, r.status === 'ok' ? undefined : item.anchor.quote),
    };
  }

  // Ink and notes: follow the text they were drawn next to; else the page that continues theirs.
  const mapped = oldPage0 < change.pageMap.length ? change.pageMap[oldPage0] : -1;
  if (item.near) {
    const r = reanchorText(item.near, change.newPages, change.pageMap);
    if (r.status !== 'orphaned') {
      return { ...item, page: r.anchor.page, near: r.anchor, carried: carry(r.status) };
    }
  }
  if (mapped >= 0) {
    const same = change.oldPages.norm[oldPage0].text === change.newPages.norm[mapped].text;
    const status: AnchorStatus = item.near ? 'changed' : same ? 'ok' : 'changed';
    return { ...item, page: mapped + 1, carried: carry(status) };
  }
  // The page is gone: same position on the nearest remaining page, flagged for the owner.
  const page = Math.max(1, Math.min(item.page, nPages));
  return { ...item, page, carried: carry('orphaned') };
}
