import { foldText } from './fold.js';

/** A search query as people type it, folded and split. */
export interface ParsedQuery {
  /** Every folded word of the query, quoted or not, in order, without repeats (at most `max`). */
  terms: string[];
  /** Groups that must match as written: each quoted part ("chuyen doi so") as one phrase, each other word alone. */
  required: string[][];
  /** True when the query had a quoted part. */
  quoted: boolean;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Parses a query: folds it (marks stripped, đ → d, lowercase, so "Chuyển đổi", "chuyen doi",
 * "CHUYỂN doi" are the same query), keeps parts in double quotes (straight or curly) together
 * as phrases, and splits the rest into words. Unbalanced quotes run to the end of the query.
 * Only letters and digits survive, so the words carry no FTS5 or tsquery syntax (server/search/search.repo.ts).
 */
export function parseSearchQuery(raw: string, max = 12): ParsedQuery {
  const text = foldText(raw.replace(/[“”„«»]/g, '"'));
  const required: string[][] = [];
  const terms: string[] = [];
  let quoted = false;
  let count = 0;
  const parts = text.split('"');
  parts.forEach((part, i) => {
    const words = (part.match(WORD) ?? []).slice(0, Math.max(0, max - count));
    if (!words.length) return;
    count += words.length;
    for (const w of words) if (!terms.includes(w)) terms.push(w);
    // Odd parts sit between quotes.
    if (i % 2 === 1 && words.length > 1) {
      quoted = true;
      required.push(words);
    } else for (const w of words) if (!required.some((g) => g.length === 1 && g[0] === w)) required.push([w]);
  });
  return { terms, required, quoted };
}
