import { foldText, normalizeText, queryTerms } from './fold.js';

/** One page that matched, with a snippet whose matching words are marked. */
export interface FindHit {
  page: number;
  snippet: { text: string; hit: boolean }[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bounded = (body: string) => `(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])`;
/** A folded word on its own (not inside a longer word). */
export const wordRe = (t: string) => new RegExp(bounded(escapeRe(t)), 'u');
/** The folded words in order, separated only by spaces or punctuation. */
export const phraseRegExp = (terms: string[]) => new RegExp(bounded(terms.map(escapeRe).join('[^\\p{L}\\p{N}]+')), 'u');

/**
 * Find in a document's page texts, as the server's `/api/documents/:id/find` does: the query's words
 * as a phrase (in order, separated only by spaces or punctuation), with or without Vietnamese marks
 * (both sides folded with {@link foldText}). Used by the service worker when the tablet is offline.
 */
export function findInPages(pages: { page: number; text: string }[], query: string, limit = 2_000): { terms: string[]; pages: FindHit[] } {
  const terms = queryTerms(query);
  if (!terms.length) return { terms, pages: [] };
  const phrase = phraseRegExp(terms);
  const out: FindHit[] = [];
  for (const p of pages) {
    if (out.length >= limit) break;
    const text = normalizeText(p.text);
    if (phrase.test(foldText(text))) out.push({ page: p.page, snippet: snippet(text, terms, 120) });
  }
  return { terms, pages: out };
}

/**
 * About `width` characters of `text` split into parts with the matching words marked. The window
 * is placed on the first occurrence of `phrase` (the query's words in order) when there is one,
 * else where most different query words sit close together, else at the first match. Offsets come
 * from the aligned fold, so the parts are the original text (plain text: the client renders them
 * as text, with `hit` parts in `<mark>`, never as HTML). The server's search and find-in-document
 * and the service worker's offline find all cut their snippets here.
 */
export function snippet(text: string, terms: string[], width = 180, phrase: string[] | null = null): { text: string; hit: boolean }[] {
  if (!terms.length) return text ? [{ text: text.slice(0, width).replace(/\s+/g, ' '), hit: false }] : [];
  const folded = foldText(text);
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${[...terms].sort((a, b) => b.length - a.length).map(escapeRe).join('|')})(?![\\p{L}\\p{N}])`, 'gu');
  const matches = [...folded.matchAll(re)].map((m) => ({ at: m.index, word: m[0] }));
  let anchor = matches[0]?.at ?? -1;
  const phraseAt = phrase && phrase.length > 1 ? folded.search(phraseRegExp(phrase)) : -1;
  if (phraseAt >= 0) anchor = phraseAt;
  else if (terms.length > 1 && matches.length > 1) {
    // The match that starts the window holding the most different words.
    let best = -1;
    for (let i = 0, j = 0; i < matches.length; i++) {
      while (j < matches.length && matches[j].at - matches[i].at < width * 0.6) j++;
      const distinct = new Set(matches.slice(i, j).map((m) => m.word)).size;
      if (distinct > best) {
        best = distinct;
        anchor = matches[i].at;
      }
    }
  }
  let start = 0;
  if (anchor > 0 && text.length > width) {
    start = Math.max(0, anchor - Math.floor(width / 4));
    const space = text.lastIndexOf(' ', start);
    if (start > 0 && space > start - 20) start = space + 1;
  }
  const end = Math.min(text.length, start + width);
  const parts: { text: string; hit: boolean }[] = [];
  let pos = start;
  for (const m of matches) {
    if (m.at < start || m.at + m.word.length > end) continue;
    if (m.at > pos) parts.push({ text: text.slice(pos, m.at), hit: false });
    parts.push({ text: text.slice(m.at, m.at + m.word.length), hit: true });
    pos = m.at + m.word.length;
  }
  if (pos < end) parts.push({ text: text.slice(pos, end), hit: false });
  if (start > 0 && parts[0]) parts[0].text = '…' + parts[0].text;
  if (end < text.length && parts.length) parts[parts.length - 1].text += '…';
  return parts.map((p) => ({ ...p, text: p.text.replace(/\s+/g, ' ') }));
}

/** The whole (short) `text` with the query's words marked: titles. */
export function highlight(text: string, terms: string[]): { text: string; hit: boolean }[] {
  return snippet(text, terms, Math.max(text.length, 1));
}
