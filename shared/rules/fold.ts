/**
 * Folding of Vietnamese (and other Latin-script) text for search: NFD, strip combining marks,
 * đ/Đ → d, lowercase. "Chuyển đổi số" and "chuyen doi so" fold to the same string.
 *
 * The fold is *aligned*: every UTF-16 code unit of the NFC input maps to exactly one code unit of
 * the output, so an offset found in the folded text is the same offset in the original (NFC) text.
 * That lets the server match on the folded column and cut highlighted snippets from the original.
 * A code point whose fold would change the length (rare: e.g. "İ", or a lone combining mark) is
 * kept as its lowercase form when that has the same length, or else replaced by a space.
 *
 * The same function must be applied to indexed text and to queries.
 */
export function foldText(input: string): string {
  const nfc = input.normalize('NFC');
  let out = '';
  for (const cp of nfc) {
    out += foldCodePoint(cp);
  }
  return out;
}

const COMBINING = /\p{M}/gu;
const cache = new Map<string, string>();

function foldCodePoint(cp: string): string {
  const c = cache.get(cp);
  if (c !== undefined) return c;
  let f: string;
  if (cp === 'đ' || cp === 'Đ') f = 'd';
  else {
    f = cp.normalize('NFD').replace(COMBINING, '').toLowerCase();
    if (f.length !== cp.length) {
      const lower = cp.toLowerCase();
      f = lower.length === cp.length ? lower : ' '.repeat(cp.length);
    }
  }
  if (cache.size < 10_000) cache.set(cp, f);
  return f;
}

/** The NFC form that `foldText` offsets refer to. */
export function normalizeText(input: string): string {
  return input.normalize('NFC');
}

/**
 * Folded text as the words a full-text index holds, one space apart: `foldText`, then runs of letters and
 * digits — where SQLite FTS5's unicode61 tokenizer cuts too ("12.500" is 12 and 500, "E-Cabinet" e and
 * cabinet, "420/451" 420 and 451). The PostgreSQL index is `to_tsvector('simple', ftsWords(…))`
 * (server/search/search.repo.ts): each word keeps its position, so phrases work as FTS5's; left to
 * PostgreSQL's own parser, "12.500" would be one number and "a@b.vn" one email address.
 */
export function ftsWords(text: string): string {
  return (foldText(text).match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
}

/**
 * Splits a query into folded search terms (letters and digits), at most `max` of them.
 * "Chuyển đổi-số!" → ["chuyen", "doi", "so"].
 */
export function queryTerms(query: string, max = 12): string[] {
  return (foldText(query).match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, max);
}
