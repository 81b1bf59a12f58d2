import { foldText, normalizeText, queryTerms } from '../../shared/rules/fold.js';
import { type ParsedQuery, ftsPhrase, parseSearchQuery } from '../../shared/rules/search-query.js';
import { highlight, phraseRegExp, snippet, wordRe } from '../../shared/rules/find.js';
import type { SearchHit, SearchQuery, SearchResults } from '../../shared/protocol/search.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';

/**
 * One searchable unit. Another domain (minutes, conclusions) adds its own `kind` with
 * `registerSearchKind` and keeps its entries current with `replaceEntries` inside its own `tx()`.
 */
export interface IndexEntry {
  kind: string;
  refId: number;
  /** Scopes access: hits are only considered in meetings the caller may see. Null = not meeting-bound. */
  meetingId: number | null;
  /** 1-based page (documents), else null. */
  page?: number | null;
  title: string;
  body: string;
}

/**
 * Access hook of one kind: given the candidate ref ids (already limited to meetings the caller may
 * see), returns those the caller may see. It must apply the same rules as the kind's own routes.
 */
export type SearchVisibility = (db: Db, user: AuthUser, refIds: number[]) => Set<number>;

/**
 * Ref ids of a kind the user may see outside the meetings search is scoped to (documents sent to them
 * with a written consultation). Their entries become candidates too; the visibility hook still decides.
 */
export type SearchGrants = (db: Db, user: AuthUser) => number[];

/**
 * Called with the hits of a kind just before they are returned to `user` (e.g. to audit that the
 * snippets of a confidential document were shown). Runs its own transaction when it writes.
 */
export type SearchServed = (db: Db, user: AuthUser, hits: SearchHit[]) => void;

const KINDS = new Map<string, SearchVisibility>();
const GRANTS = new Map<string, SearchGrants>();
const SERVED = new Map<string, SearchServed>();

/** Declares a searchable kind and its access rule. Hits of unregistered kinds are never returned. */
export function registerSearchKind(kind: string, visible: SearchVisibility, opts: { grants?: SearchGrants; served?: SearchServed } = {}): void {
  KINDS.set(kind, visible);
  if (opts.grants) GRANTS.set(kind, opts.grants);
  else GRANTS.delete(kind);
  if (opts.served) SERVED.set(kind, opts.served);
  else SERVED.delete(kind);
}

/** Adds entries to the index (and refreshes the things they belong to). Call inside the `tx()` that changes the indexed content. */
export function indexEntries(db: Db, entries: IndexEntry[]): void {
  if (!entries.length) return;
  const insEntry = db.$client.prepare('insert into search_entries (kind, ref_id, meeting_id, page, title, body) values (?, ?, ?, ?, ?, ?)');
  const insFts = db.$client.prepare('insert into search_fts (rowid, text) values (?, ?)');
  const things = new Map<string, [string, number]>();
  for (const e of entries) {
    const title = normalizeText(e.title);
    const body = normalizeText(e.body);
    const r = insEntry.run(e.kind, e.refId, e.meetingId, e.page ?? null, title, body);
    insFts.run(r.lastInsertRowid, foldText(title) + '\n' + foldText(body));
    things.set(`${e.kind}:${e.refId}`, [e.kind, e.refId]);
  }
  for (const [kind, refId] of things.values()) rebuildGroup(db, kind, refId);
}

/** Removes every entry of `kind` for the given ref ids (and their things). Call inside the changing `tx()`. */
export function removeEntries(db: Db, kind: string, refIds: number[]): void {
  const ids = db.$client.prepare('select id from search_entries where kind = ? and ref_id = ?');
  const delFts = db.$client.prepare('delete from search_fts where rowid = ?');
  const delEntry = db.$client.prepare('delete from search_entries where id = ?');
  for (const refId of refIds) {
    for (const row of ids.all(kind, refId) as { id: number }[]) {
      delFts.run(row.id);
      delEntry.run(row.id);
    }
    rebuildGroup(db, kind, refId);
  }
}

/** Replaces the entries of one thing (`kind`, `refId`) by `entries`. */
export function replaceEntries(db: Db, kind: string, refId: number, entries: Omit<IndexEntry, 'kind' | 'refId'>[]): void {
  removeEntries(db, kind, [refId]);
  indexEntries(
    db,
    entries.map((e) => ({ ...e, kind, refId })),
  );
}

/**
 * Rewrites the `search_groups` row of one thing from its entries: its title and all its bodies in
 * page order, so matching and ranking work on the whole thing. No entries → no row.
 */
function rebuildGroup(db: Db, kind: string, refId: number): void {
  const c = db.$client;
  const old = c.prepare('select id from search_groups where kind = ? and ref_id = ?').get(kind, refId) as { id: number } | undefined;
  if (old) {
    c.prepare('delete from search_groups_fts where rowid = ?').run(old.id);
    c.prepare('delete from search_groups where id = ?').run(old.id);
  }
  const rows = c.prepare('select meeting_id as meetingId, title, body from search_entries where kind = ? and ref_id = ? order by page, id').all(kind, refId) as {
    meetingId: number | null;
    title: string;
    body: string;
  }[];
  if (!rows.length) return;
  const title = rows[0].title;
  const r = c.prepare('insert into search_groups (kind, ref_id, meeting_id, title) values (?, ?, ?, ?)').run(kind, refId, rows[0].meetingId, title);
  c.prepare('insert into search_groups_fts (rowid, title, body) values (?, ?, ?)').run(r.lastInsertRowid, foldText(title), rows.map((x) => foldText(x.body)).join('\n'));
}

/**
 * Builds the missing `search_groups` rows of things indexed before groups existed (once, at start;
 * a no-op afterwards). Returns how many were built.
 */
export function ensureGroups(db: Db): number {
  const missing = db.$client
    .prepare('select distinct e.kind, e.ref_id as refId from search_entries e where not exists (select 1 from search_groups g where g.kind = e.kind and g.ref_id = e.ref_id)')
    .all() as { kind: string; refId: number }[];
  db.$client.transaction(() => {
    for (const m of missing) rebuildGroup(db, m.kind, m.refId);
  })();
  return missing.length;
}

/**
 * Meetings whose content the user may search: admins all (null), otherwise meetings they take part
 * in once published, and every meeting they may manage (committee or meeting secretary). Mirrors
 * `meetingAccess`.
 */
export function searchableMeetingIds(db: Db, user: AuthUser): number[] | null {
  if (user.systemRole === 'admin') return null;
  const rows = db.$client
    .prepare(
      `select m.id from meetings m
        where exists (select 1 from meeting_participants p where p.meeting_id = m.id and p.user_id = @uid
                        and (m.status <> 'draft' or p.role = 'secretary'))
           or exists (select 1 from committee_members c where c.committee_id = m.committee_id and c.user_id = @uid
                        and c.default_role = 'secretary')`,
    )
    .all({ uid: user.id }) as { id: number }[];
  return rows.map((r) => r.id);
}

interface Candidate {
  id: number;
  kind: string;
  refId: number;
  meetingId: number | null;
  title: string;
  /** bm25 over the whole thing, title weighted (lower is better). */
  score: number;
  /** 0: the query as a phrase in the title; 1: every word in the title; 2: the phrase in the text; 3: the words anywhere. */
  tier: number;
}

/** How much a word in the title weighs against one in the text (bm25 column weights). */
const TITLE_WEIGHT = 8;
/** Candidates ranked per strategy before access checks and re-ranking (bounded work per query). */
const CANDIDATES = 400;
/** Best pages shown under a document. */
const BEST_PAGES = 3;

/**
 * Full-text search over everything the user may see, one result per thing (a document, an agenda
 * item, a meeting, minutes…), never one per page.
 *
 * - The query is folded like the index ("chuyen doi so", "Chuyển Đổi số" and "CHUYEN đổi SO" are
 *   the same) and parsed: quoted parts must match as phrases, other words anywhere in the thing —
 *   a document matches when its pages together hold every word, not only when one page does.
 * - Ranking: the query as a phrase in the title, then every word in the title, then the phrase in
 *   the text, then the rest; within each tier bm25 over the whole thing with the title weighted
 *   ×8 (bm25's length normalisation keeps a 451-page pack from outranking short documents that are
 *   about the query, and being one result it cannot crowd them out).
 * - Access is checked now, per kind (`registerSearchKind`), on the candidates; nothing the caller
 *   may not see is returned or counted.
 * - Documents (kinds with pages) carry their best pages (the phrase first, then the pages holding
 *   most of the words, then bm25), each with a highlighted snippet cut from the original text.
 */
export function search(db: Db, user: AuthUser, q: SearchQuery): SearchResults {
  const parsed = parseSearchQuery(q.q);
  const { terms } = parsed;
  if (!terms.length) return { query: q.q, hits: [] };
  let meetings = searchableMeetingIds(db, user);
  if (q.meetingId !== undefined) meetings = meetings === null || meetings.includes(q.meetingId) ? [q.meetingId] : [];
  // Things granted outside those meetings (e.g. documents of a consultation), as [kind, refId] pairs.
  const granted: [string, number][] = [];
  if (meetings !== null && q.meetingId === undefined) for (const [kind, grants] of GRANTS) for (const id of grants(db, user)) granted.push([kind, id]);
  if (meetings !== null && meetings.length === 0 && granted.length === 0) return { query: q.q, hits: [] };
  const scope =
    meetings === null
      ? ''
      : `and (g.meeting_id in (select value from json_each(@meetings))
              or exists (select 1 from json_each(@granted) x where json_extract(x.value, '$[0]') = g.kind and json_extract(x.value, '$[1]') = g.ref_id))`;
  const scopeArgs = meetings === null ? {} : { meetings: JSON.stringify(meetings), granted: JSON.stringify(granted) };
  const ranked = db.$client.prepare(
    `select g.id, g.kind, g.ref_id as refId, g.meeting_id as meetingId, g.title, bm25(search_groups_fts, ${TITLE_WEIGHT}, 1.0) as score
       from search_groups_fts join search_groups g on g.id = search_groups_fts.rowid
      where search_groups_fts match @match ${scope}
      order by score limit ${CANDIDATES}`,
  );
  const phrase = terms.length > 1 ? ftsPhrase(terms) : null;
  const all = parsed.required.map(ftsPhrase).join(' ');
  const titleAll = `{title} : (${parsed.required.map(ftsPhrase).join(' ')})`;
  // Three strategies, so that a thing that should rank first (exact phrase, title) is never lost
  // behind CANDIDATES better-bm25 things that only hold the words.
  const candidates = new Map<number, Candidate>();
  const add = (match: string, tier: number) => {
    for (const r of ranked.all({ match, ...scopeArgs }) as Omit<Candidate, 'tier'>[]) {
      const c = candidates.get(r.id);
      if (!c) candidates.set(r.id, { ...r, tier });
      else c.tier = Math.min(c.tier, tier);
    }
  };
  if (phrase) add(`{title} : ${phrase}`, 0);
  add(titleAll, phrase ? 1 : 0);
  if (phrase && !parsed.quoted) add(phrase, 2);
  add(all, 3);
  // Tiers were set by the strategy that found a thing; a thing found only by a later strategy may
  // still qualify for an earlier tier: check the remaining ones on the candidates alone.
  refineTiers(db, [...candidates.values()], phrase, titleAll);

  const visible = visibleCandidates(db, user, [...candidates.values()]);
  visible.sort((a, b) => a.tier - b.tier || a.score - b.score || a.id - b.id);
  const top = visible.slice(0, q.limit);
  const meetingTitles = titlesOfMeetings(db, top.map((c) => c.meetingId));
  const texts = db.$client.prepare('select body from search_entries where kind = ? and ref_id = ? order by page, id limit 1');
  const hits: SearchHit[] = top.map((c) => {
    const pages = bestPages(db, c, parsed);
    const body = pages.length ? pages[0].body : ((texts.get(c.kind, c.refId) as { body: string } | undefined)?.body ?? '');
    return {
      kind: c.kind,
      refId: c.refId,
      meetingId: c.meetingId,
      meetingTitle: c.meetingId !== null ? (meetingTitles.get(c.meetingId) ?? null) : null,
      page: pages[0]?.page ?? null,
      title: c.title,
      titleParts: highlight(c.title, terms),
      snippet: snippet(body || c.title, terms, 180, phrase ? terms : null),
      pages: pages.map((p) => ({ page: p.page, snippet: snippet(p.body, terms, 140, phrase ? terms : null) })),
      score: c.score,
    };
  });
  for (const [kind, served] of SERVED) {
    const mine = hits.filter((h) => h.kind === kind);
    if (mine.length) served(db, user, mine);
  }
  return { query: q.q, hits };
}

/** Lowers each candidate's tier where a stricter match also holds. */
function refineTiers(db: Db, cands: Candidate[], phrase: string | null, titleAll: string): void {
  if (!cands.length) return;
  // Match the whole index and intersect here: FTS5 runs a `rowid IN (…)` constraint as one lookup
  // per rowid, which is far slower than one pass over the (small) result.
  const check = db.$client.prepare('select rowid as id from search_groups_fts where search_groups_fts match ?');
  const lower = (match: string, tier: number) => {
    const hit = new Set((check.all(match) as { id: number }[]).map((r) => r.id));
    for (const c of cands) if (c.tier > tier && hit.has(c.id)) c.tier = tier;
  };
  if (phrase) lower(`{title} : ${phrase}`, 0);
  lower(titleAll, phrase ? 1 : 0);
  if (phrase) lower(phrase, 2);
}

/** The candidates the user may see now, by each kind's access hook; unregistered kinds never. */
function visibleCandidates(db: Db, user: AuthUser, cands: Candidate[]): Candidate[] {
  const byKind = new Map<string, number[]>();
  for (const c of cands) byKind.set(c.kind, [...(byKind.get(c.kind) ?? []), c.refId]);
  const visible = new Map<string, Set<number>>();
  for (const [kind, refIds] of byKind) {
    const hook = KINDS.get(kind);
    visible.set(kind, hook ? hook(db, user, [...new Set(refIds)]) : new Set());
  }
  return cands.filter((c) => visible.get(c.kind)?.has(c.refId));
}

function titlesOfMeetings(db: Db, ids: (number | null)[]): Map<number, string> {
  const wanted = [...new Set(ids.filter((x): x is number => x !== null))];
  if (!wanted.length) return new Map();
  const rows = db.$client.prepare('select id, title from meetings where id in (select value from json_each(?))').all(JSON.stringify(wanted)) as { id: number; title: string }[];
  return new Map(rows.map((r) => [r.id, r.title]));
}

/**
 * The best pages of a paged thing for the query: pages holding the query as a phrase first, then
 * those holding more of its words, then bm25. Empty for things without pages.
 */
function bestPages(db: Db, c: Candidate, parsed: ParsedQuery): { page: number; body: string }[] {
  const any = parsed.terms.map((t) => ftsPhrase([t])).join(' OR ');
  const rows = db.$client
    .prepare(
      `select e.page, e.body, bm25(search_fts) as score from search_fts join search_entries e on e.id = search_fts.rowid
        where search_fts match ? and e.kind = ? and e.ref_id = ? and e.page is not null order by score limit 24`,
    )
    .all(any, c.kind, c.refId) as { page: number; body: string; score: number }[];
  if (!rows.length) return [];
  const res = parsed.terms.map((t) => wordRe(t));
  const phraseRe = parsed.terms.length > 1 ? phraseRegExp(parsed.terms) : null;
  const scored = rows.map((r) => {
    const folded = quickFold(r.body);
    const phraseHit = phraseRe?.test(folded) ? 1 : 0;
    const covered = res.reduce((n, re) => n + (re.test(folded) ? 1 : 0), 0);
    return { ...r, phraseHit, covered };
  });
  scored.sort((a, b) => b.phraseHit - a.phraseHit || b.covered - a.covered || a.score - b.score || a.page - b.page);
  return scored.slice(0, BEST_PAGES).map((r) => ({ page: r.page, body: r.body }));
}

/** Folds like `foldText` without keeping offsets aligned (native string operations): for tests of presence only. */
const quickFold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();


/**
 * Entries of one thing (`kind`, `refId`) containing `query` as a phrase (folded), in page order, with snippets.
 * The caller has already checked access to the thing (e.g. find-in-document after `documentAccess`).
 */
export function searchWithin(db: Db, kind: string, refId: number, query: string, limit = 2_000) {
  const terms = queryTerms(query);
  if (!terms.length) return { terms, pages: [] as { page: number; snippet: { text: string; hit: boolean }[] }[] };
  const rows = db.$client
    .prepare(
      `select e.page, e.body from search_fts join search_entries e on e.id = search_fts.rowid
        where search_fts match ? and e.kind = ? and e.ref_id = ? order by e.page limit ?`,
    )
    // Find-in-document matches the words as a phrase (in order, adjacent), like a reader's Ctrl+F.
    .all(`"${terms.join(' ')}"`, kind, refId, limit) as { page: number | null; body: string }[];
  return { terms, pages: rows.map((r) => ({ page: r.page ?? 0, snippet: snippet(r.body, terms, 120) })) };
}

