import { foldText, normalizeText, queryTerms } from './fold.js';

/** One page that matched, with a snippet whose matching words are marked. */
export interface FindHit {
  page: number;
  snippet: { text: string; hit: boolean }[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bounded = (body: string) => `(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])`;

/**
 * Find in a document's page texts, as the server's `/api/documents/:id/find` does: the query's words
 * as a phrase (in order, separated only by spaces or punctuation), with or without Vietnamese marks
 * (both sides folded with {@link foldText}). Used by the service worker when the tablet is offline.
 */
export function findInPages(pages: { page: number; text: string }[], query: string, limit = 2_000): { terms: string[]; pages: FindHit[] } {
  const terms = queryTerms(query);
  if (!terms.length) return { terms, pages: [] };
  const phrase = new RegExp(bounded(terms.map(escapeRe).join('[^\\p{L}\\p{N}]+')), 'u');
  const out: FindHit[] = [];
  for (const p of pages) {
    if (out.length >= limit) break;
    if (phrase.test(foldText(p.text))) out.push({ page: p.page, snippet: snippet(p.text, terms, 120) });
  }
  return { terms, pages: out };
}

/**
 * About `width` characters of `text` around the first match of any term, split into parts with the
 * matching words marked. Offsets come from the aligned fold, so the parts are the original text.
 */
export function snippet(raw: string, terms: string[], width = 180): { text: string; hit: boolean }[] {
  const text = normalizeText(raw);
  const folded = foldText(text);
  const re = new RegExp(bounded(terms.map(escapeRe).join('|')), 'gu');
  const first = re.exec(folded);
  re.lastIndex = 0;
  let start = 0;
  if (first) {
    start = Math.max(0, first.index - Math.floor(width / 3));
    const space = text.lastIndexOf(' ', start);
    if (start > 0 && space > start - 20) start = space + 1;
  }
  const end = Math.min(text.length, start + width);
  const parts: { text: string; hit: boolean }[] = [];
  let pos = start;
  for (const m of folded.slice(start, end).matchAll(re)) {
    const at = start + m.index;
    if (at > pos) parts.push({ text: text.slice(pos, at), hit: false });
    parts.push({ text: text.slice(at, at + m[0].length), hit: true });
    pos = at + m[0].length;
  }
  if (pos < end) parts.push({ text: text.slice(pos, end), hit: false });
  if (start > 0 && parts[0]) parts[0].text = '…' + parts[0].text;
  if (end < text.length && parts.length) parts[parts.length - 1].text += '…';
  return parts.map((p) => ({ ...p, text: p.text.replace(/\s+/g, ' ') }));
}
