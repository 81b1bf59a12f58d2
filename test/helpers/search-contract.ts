import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type ParsedQuery, parseSearchQuery } from '../../shared/rules/search-query.js';
import type { Store } from '../../server/db/store.js';
import { ftsWords } from '../../shared/rules/fold.js';
import { type FtsQuery, type SearchScope, matchEntries, matchGroups, matchPages } from '../../server/search/search.repo.js';
import { rankedCandidates, searchWithin } from '../../server/search/search.service.js';
import { replaceIndexed } from '../../server/search/search.repo.js';
import { AGENDA_ITEMS, DOC_TITLES, MEETINGS, SEARCH_CASES, type TargetKey } from '../integration/search-corpus.js';

/*
 * The full-text search both stores promise (issue #17), run against each dialect by
 * test/integration/search-dialects.sqlite.test.ts and search-dialects.pg.test.ts: the same corpus (the five
 * Vietnamese seed articles of ../shared/testdata/seeds as paged documents, a 451-page pack made of them, the
 * meetings and agenda items of search-corpus.ts, and a few things of our own) indexed through
 * `replaceIndexed`, and the same query set. A process runs one dialect (server/db/tables.ts), so the two
 * stores are not compared with each other directly: each must give, for every query, exactly the things and
 * tiers a reference matcher written here in plain TypeScript gives (`expected`) — the same on both, so the
 * same on each other.
 */

/** One indexed thing of the corpus. */
interface Thing {
  kind: string;
  refId: number;
  meetingId: number;
  title: string;
  /** Its entries: [page (null for a thing without pages), text]. */
  entries: [number | null, string][];
}

const MEETING_A = 101;
const MEETING_B = 102;
const SEEDS = path.resolve(import.meta.dirname, '../../../shared/testdata/seeds');

/** An article's paragraphs cut into pages of at most ~1,400 characters (whole paragraphs), as a PDF's text layer. */
function pages(text: string): string[] {
  const out: string[] = [];
  let page = '';
  for (const para of text.split('\n').filter((l) => l.trim())) {
    if (page && page.length + para.length > 1_400) {
      out.push(page);
      page = '';
    }
    page += (page ? '\n' : '') + para;
  }
  if (page) out.push(page);
  return out;
}

function buildThings(): { things: Thing[]; ids: Record<TargetKey | 'titleHit' | 'bodyHit' | 'hotline' | 'markup', number> } {
  const articles = fs
    .readdirSync(SEEDS)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => pages(fs.readFileSync(path.join(SEEDS, f), 'utf8')));
  const things: Thing[] = [];
  const ids = {} as Record<TargetKey | 'titleHit' | 'bodyHit' | 'hotline' | 'markup', number>;
  const add = (key: keyof typeof ids, t: Thing) => {
    ids[key] = t.refId;
    things.push(t);
  };
  add('meetingA', { kind: 'meeting', refId: MEETING_A, meetingId: MEETING_A, title: MEETINGS.meetingA[0], entries: [[null, MEETINGS.meetingA[1] || MEETINGS.meetingA[0]]] });
  add('meetingB', { kind: 'meeting', refId: MEETING_B, meetingId: MEETING_B, title: MEETINGS.meetingB[0], entries: [[null, MEETINGS.meetingB[1] || MEETINGS.meetingB[0]]] });
  const itemKeys: TargetKey[] = ['itemOpening', 'itemPaperless', 'itemProject06', 'itemTraining'];
  AGENDA_ITEMS.forEach(([title, description], i) =>
    add(itemKeys[i], { kind: 'agenda_item', refId: 201 + i, meetingId: MEETING_A, title, entries: [[null, description || title]] }),
  );
  (['doc0', 'doc1', 'doc2', 'doc3', 'doc4'] as const).forEach((key, i) =>
    add(key, { kind: 'document', refId: 301 + i, meetingId: MEETING_A, title: DOC_TITLES[key], entries: articles[i].map((body, p) => [p + 1, body]) }),
  );
  // The pack: the articles' pages over and over, each page with its footer.
  const all = articles.flat();
  add('pack', {
    kind: 'document',
    refId: 306,
    meetingId: MEETING_A,
    title: DOC_TITLES.pack,
    entries: Array.from({ length: 451 }, (_, p) => [p + 1, `${all[p % all.length]}\nTrang ${p + 1}/451`]),
  });
  // A word in one thing's title, the same words only in another's (much longer) text.
  add('titleHit', { kind: 'minutes', refId: 401, meetingId: MEETING_B, title: 'Kết luận về ngân sách', entries: [[null, 'Nội dung khác của phiên họp.']] });
  add('bodyHit', { kind: 'minutes', refId: 402, meetingId: MEETING_B, title: 'Ghi chú', entries: [[null, `${'Ngân sách năm nay. '.repeat(40)}Kết luận.`]] });
  add('hotline', { kind: 'minutes', refId: 403, meetingId: MEETING_B, title: 'Đường dây nóng', entries: [[null, 'ĐƯỜNG Đại Cồ Việt; e-mail: duong.day@hanoi.gov.vn; 12.500 cuộc gọi; C++ & SQL: a&b|c!(d) <-> \'x\':*']] });
  // Text PostgreSQL's own parser would read as tags, URLs, e-mails, file paths, versions and hyphenated words.
  add('markup', {
    kind: 'agenda_item',
    refId: 404,
    meetingId: MEETING_B,
    title: '<img src=x onerror=alert(1)> Báo cáo an ninh mạng',
    entries: [
      [
        null,
        'Bảo đảm <b>an ninh</b> mạng & an toàn thông tin; xem https://dichvucong.gov.vn/p/home/dvc-tthc.html?ma=1.004227 ' +
          'và /var/lib/ecabinet/ho-so-mat.pdf, C:\\Hồ sơ\\biên-bản.docx; phiên bản 2.10.3-rc1, tỷ lệ 3,14%; người liên hệ: an.ninh+mang@stttt.hanoi.gov.vn; ' +
          'E-Cabinet, ISO/IEC-27001, <a href="mailto:x@y.vn">liên hệ</a>',
      ],
    ],
  });
  return { things, ids };
}

// ---------------------------------------------------------------------------------------------
// The reference matcher: what a query must find, from the words alone
// ---------------------------------------------------------------------------------------------

const words = (text: string) => ftsWords(text).split(' ').filter(Boolean);

/** `phrase` as consecutive words of `ws`. */
function holds(ws: string[], phrase: string[]): boolean {
  outer: for (let i = 0; i + phrase.length <= ws.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (ws[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

/** A thing as FTS5's two columns see it: the title's words and all its text's words in page order. */
const columnsOf = new WeakMap<Thing, { title: string[]; body: string[] }>();
function columns(t: Thing) {
  let c = columnsOf.get(t);
  if (!c) {
    const ordered = [...t.entries].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    c = { title: words(t.title), body: ordered.flatMap(([, body]) => words(body)) };
    columnsOf.set(t, c);
  }
  return c;
}

function matches(t: Thing, q: FtsQuery): boolean {
  const c = columns(t);
  const one = (p: string[]) => holds(c.title, p) || (!q.title && holds(c.body, p));
  return q.any ? q.phrases.some(one) : q.phrases.every(one);
}

/** What `rankedCandidates` must return for `parsed` (things and tiers; the order within a tier is the store's ranking). */
function expected(things: Thing[], parsed: ParsedQuery, scope: SearchScope): Map<string, number> {
  const out = new Map<string, number>();
  const { terms, required, quoted } = parsed;
  if (!terms.length) return out;
  const phrase = terms.length > 1 ? { phrases: [terms] } : null;
  for (const t of things) {
    if (scope.meetings !== null && !scope.meetings.includes(t.meetingId) && !scope.granted.some(([k, r]) => k === t.kind && r === t.refId)) continue;
    const inPhraseTitle = phrase !== null && matches(t, { ...phrase, title: true });
    const inTitle = matches(t, { phrases: required, title: true });
    const inPhrase = phrase !== null && matches(t, phrase);
    const inAll = matches(t, { phrases: required });
    if (!(inPhraseTitle || inTitle || (inPhrase && !quoted) || inAll)) continue;
    const tier = inPhraseTitle ? 0 : inTitle ? (phrase ? 1 : 0) : inPhrase ? 2 : 3;
    out.set(`${t.kind}:${t.refId}`, tier);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The query set
// ---------------------------------------------------------------------------------------------

/** Queries as people type them (search-corpus.ts's 36, and more), and hostile ones. */
export const DIALECT_QUERIES: string[] = [
  ...SEARCH_CASES.map((c) => c.q),
  // With and without marks, đ/Đ typed as d or as đ, any case.
  'Trần Đình Cảnh',
  'tran dinh canh',
  'TRẦN đình canh',
  'Tran Đinh Cảnh',
  'ĐƯỜNG DÂY NÓNG',
  'duong day nong',
  'đuong',
  'Đại Cồ Việt',
  'dai co viet',
  'Đề Án 06',
  'de an 06',
  'chuyển đổi số',
  'CHUYEN DOI SO',
  // Prefixes are not a search feature: a part of a word finds nothing more, `*` and `:*` are not operators.
  'chuy',
  'chuyen*',
  'chuy*',
  'chuy:*',
  "'chuy':*",
  'hanh chi',
  // Phrases and words.
  '"chuyen doi so"',
  '"so doi chuyen"',
  '"ban chi dao" ha noi',
  'ha noi "ban chi dao',
  '“phòng họp không giấy”',
  'chuyen doi so ha noi ban chi dao',
  'ngan sach',
  'ket luan ngan sach',
  'ngân sách kết luận',
  // A title word against a text word.
  'hop',
  'ghi chu',
  // No match.
  'xyzzy',
  'chuyen xyzzy',
  '"doi chuyen so"',
  // Hostile: tsquery and FTS5 syntax, SQL, quotes, nothing but punctuation.
  "'",
  "''",
  '"',
  '""',
  "chuyen' & 'doi",
  "a' OR 1=1 --",
  "'); drop table search_groups; --",
  ':*',
  '&|!()',
  'chuyen & doi | !so',
  '!chuyen',
  '(chuyen | doi) & !(so)',
  'chuyen <-> doi',
  'chuyen <2> doi',
  'chuyen:A doi:B',
  'NEAR(chuyen doi)',
  '{title} : chuyen',
  'title:chuyen',
  'chuyen AND doi OR so NOT ha',
  '^chuyen',
  'c++ sql',
  'duong.day@hanoi.gov.vn',
  '12.500',
  'e-mail',
  '\\',
  '\\x00 $1 %s ?',
  '-',
  '🙂 chuyển 🙂',
  `${'a'.repeat(300)} chuyen`,
  // Markup, URLs, e-mails, paths, versions, hyphens: the words in them, as FTS5 cuts them.
  'an ninh mang',
  '"bao cao an ninh mang"',
  'img src onerror alert',
  '<img src=x onerror=alert(1)>',
  '<b>an ninh</b>',
  'https://dichvucong.gov.vn/p/home/dvc-tthc.html',
  'dichvucong gov vn',
  '"dvc tthc html"',
  '1.004227',
  '/var/lib/ecabinet/ho-so-mat.pdf',
  '"ho so mat pdf"',
  'C:\\Hồ sơ\\biên-bản.docx',
  'bien ban docx',
  '2.10.3-rc1',
  '"10 3 rc1"',
  '3,14%',
  'an.ninh+mang@stttt.hanoi.gov.vn',
  'stttt hanoi',
  'E-Cabinet',
  'ecabinet',
  'ISO/IEC-27001',
  'iec 27001',
  'mailto x y vn',
  Array.from({ length: 40 }, (_, i) => `tu${i}`).join(' '),
];

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

/** What every store's search promises. `open` gives a fresh, migrated store (called once). */
export function searchContract(open: () => Promise<Store>) {
  const { things, ids } = buildThings();
  const key = (t: { kind: string; refId: number }) => `${t.kind}:${t.refId}`;
  const everywhere: SearchScope = { meetings: null, granted: [] };
  // One store for the whole contract, whichever test comes first in a shuffled order and however many
  // queries it runs at once: the promise is kept, not the result (two concurrent first calls opened twice).
  let store: Promise<Store> | undefined;
  const indexed = () =>
    (store ??= (async () => {
      const s = await open();
      for (const t of things)
        await s.tx(() =>
          replaceIndexed(
            s,
            t.kind,
            t.refId,
            t.entries.map(([page, body]) => ({ meetingId: t.meetingId, page, title: t.title, body })),
          ),
        );
      return s;
    })());
  const ranked = async (q: string, scope = everywhere) => (await rankedCandidates(await indexed(), parseSearchQuery(q), scope)).map((c) => ({ key: key(c), tier: c.tier }));

  it(`finds exactly what the words say for each of ${DIALECT_QUERIES.length} queries (things and tiers), hostile input included, without an error`, async () => {
    const wrong: { q: string; got: [string, number][]; want: [string, number][] }[] = [];
    let nonEmpty = 0;
    for (const q of DIALECT_QUERIES) {
      const got = (await ranked(q)).map((r) => [r.key, r.tier] as [string, number]).sort();
      const want = [...expected(things, parseSearchQuery(q), everywhere)].sort();
      if (want.length) nonEmpty++;
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push({ q, got, want });
    }
    expect(wrong).toEqual([]);
    // The set is not vacuous: most queries find something, the no-match and punctuation-only ones nothing.
    expect(nonEmpty).toBeGreaterThan(70);
  });

  it('ranks within the scope only: meetings searched plus things granted outside them', async () => {
    const scope: SearchScope = { meetings: [MEETING_B], granted: [['document', ids.doc3]] };
    for (const q of ['hop', 'chat van hdnd', 'ngan sach', 'chuyen doi so', 'Ha Minh Hai']) {
      const got = (await ranked(q, scope)).map((r) => [r.key, r.tier] as [string, number]).sort();
      expect([q, got]).toEqual([q, [...expected(things, parseSearchQuery(q), scope)].sort()]);
    }
    expect((await ranked('chat van hdnd', scope)).map((r) => r.key)).toEqual([`document:${ids.doc3}`]);
    expect(await ranked('chuyen doi so', { meetings: [], granted: [] })).toEqual([]);
  });

  it('diacritics, đ/Đ and case do not change the results or their order', async () => {
    const same = [
      ['Trần Đình Cảnh', 'tran dinh canh', 'TRẦN đình canh', 'Tran Đinh Cảnh', 'tRaN dInH cAnH'],
      ['ĐƯỜNG DÂY NÓNG', 'duong day nong', 'đường dây nóng', 'Duong Day Nong'],
      ['Đề Án 06 CÔNG AN', 'de an 06 cong an', 'đề án 06 công an'],
    ];
    for (const variants of same) {
      const results = await Promise.all(variants.map((q) => ranked(q)));
      for (const r of results) expect(r).toEqual(results[0]);
      expect(results[0].length).toBeGreaterThan(0);
    }
    expect((await ranked('đuong day nong'))[0].key).toBe(`minutes:${ids.hotline}`);
  });

  it('ranks a title hit before a thing that only has the words in its text, however often', async () => {
    const r = (await ranked('ngan sach')).map((x) => x.key);
    expect(r.indexOf(`minutes:${ids.titleHit}`)).toBeGreaterThanOrEqual(0);
    expect(r.indexOf(`minutes:${ids.titleHit}`)).toBeLessThan(r.indexOf(`minutes:${ids.bodyHit}`));
    // Each document's title typed without marks puts it first.
    for (const [k, title] of Object.entries(DOC_TITLES)) expect([title, (await ranked(title))[0]?.key]).toEqual([title, `document:${ids[k as TargetKey]}`]);
  });

  it(`answers search-corpus.ts's ${SEARCH_CASES.length} queries: every expected thing in the top 10, mean reciprocal rank ≥ 0.85`, async () => {
    let rr = 0;
    const misses: { q: string; rank: number }[] = [];
    for (const c of SEARCH_CASES) {
      const r = (await ranked(c.q)).map((x) => x.key);
      const rank = r.findIndex((k) => c.expect.some((e) => k.endsWith(`:${ids[e]}`)));
      rr += rank >= 0 ? 1 / (rank + 1) : 0;
      if (rank < 0 || rank >= 10) misses.push({ q: c.q, rank });
    }
    expect(misses).toEqual([]);
    expect(rr / SEARCH_CASES.length).toBeGreaterThanOrEqual(0.85);
  });

  it('find in a document: the pages holding the words as a phrase, in page order; best pages: those holding any word', async () => {
    const s = await indexed();
    const doc = things.find((t) => t.refId === ids.pack)!;
    for (const q of ['chuyển đổi số', 'Trang 420/451', 'tran dinh canh', 'xyzzy', "'&|!:*"]) {
      const terms = parseSearchQuery(q).terms;
      const want = terms.length ? doc.entries.filter(([, body]) => holds(words(`${doc.title}\n${body}`), terms)).map(([p]) => p) : [];
      const got = (await searchWithin(s, 'document', ids.pack, q)).pages.map((p) => p.page);
      expect([q, got]).toEqual([q, want]);
    }
    expect((await searchWithin(s, 'document', ids.pack, 'Trang 420/451')).pages.map((p) => p.page)).toEqual([420]);
    // Best pages of a short document: every page holding any of the words.
    const doc0 = things.find((t) => t.refId === ids.doc0)!;
    const terms = parseSearchQuery('Trần Sỹ Thanh thi tuyển').terms;
    const got = (await matchPages(s, { phrases: terms.map((t) => [t]), any: true }, 'document', ids.doc0)).map((p) => p.page).sort();
    expect(got).toEqual(doc0.entries.filter(([, body]) => terms.some((t) => holds(words(`${doc0.title}\n${body}`), [t]))).map(([p]) => p));
  });

  it('a query that is not folded words never reaches the database: the same clear error on both', async () => {
    const s = await indexed();
    for (const bad of ["chuyen' | 'doi", 'a:*', 'Chuyển', '', 'x y']) {
      const q: FtsQuery = { phrases: [[bad]] };
      if (bad === '') {
        // An empty word is dropped; nothing left matches nothing.
        expect(await matchEntries(s, { phrases: [['xyzzy'], []] }, 'document', ids.pack, 10)).toEqual([]);
        continue;
      }
      await expect(matchGroups(s, q, everywhere, 8, 10)).rejects.toThrow('search: not a folded word');
    }
  });
}
