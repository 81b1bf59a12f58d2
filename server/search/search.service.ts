import { queryTerms } from '../../shared/rules/fold.js';
import { type ParsedQuery, parseSearchQuery } from '../../shared/rules/search-query.js';
import { highlight, phraseRegExp, snippet, wordRe } from '../../shared/rules/find.js';
import type { SearchHit, SearchQuery, SearchResults } from '../../shared/protocol/search.js';
import type { AuthUser } from '../auth/sessions.js';
import { and, asc, eq, exists, inArray, ne, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { committeeMembers, meetingParticipants, meetings, searchEntries } from '../db/tables.js';
import { type FtsQuery, type IndexRow, type RankedGroup, type SearchScope, groupsMatching, matchEntries, matchGroups, matchPages } from './search.repo.js';

/**
 * One searchable unit. Another domain (minutes, conclusions) adds its own `kind` with
 * `registerSearchKind` and keeps its entries current with `replaceIndexed` / `removeIndexed` inside its own transaction.
 */
export type IndexEntry = IndexRow;

/**
 * Access hook of one kind: given the candidate ref ids (already limited to meetings the caller may
 * see), returns those the caller may see. It must apply the same rules as the kind's own routes.
 */
export type SearchVisibility = (store: Store, user: AuthUser, refIds: number[]) => Set<number> | Promise<Set<number>>;

/** What search needs of the app: the store. */
export type SearchCtx = Pick<AppContext, 'store'>;

/**
 * Ref ids of a kind the user may see outside the meetings search is scoped to (documents sent to them
 * with a written consultation). Their entries become candidates too; the visibility hook still decides.
 */
export type SearchGrants = (ctx: SearchCtx, user: AuthUser) => number[] | Promise<number[]>;

/**
 * Called with the hits of a kind just before they are returned to `user` (e.g. to audit that the
 * snippets of a confidential document were shown). Runs its own transaction when it writes.
 */
export type SearchServed = (ctx: SearchCtx, user: AuthUser, hits: SearchHit[]) => void | Promise<void>;

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

/**
 * Meetings whose content the user may search: admins all (null), otherwise meetings they take part
 * in once published, and every meeting they may manage (committee or meeting secretary). Mirrors
 * `meetingAccess`.
 */
export async function searchableMeetingIds(store: Store, user: AuthUser): Promise<number[] | null> {
  if (user.systemRole === 'admin') return null;
  const q = store.q;
  const rows = await q
    .select({ id: meetings.id })
    .from(meetings)
    .where(
      or(
        exists(
          q
            .select({ one: sql`1` })
            .from(meetingParticipants)
            .where(and(eq(meetingParticipants.meetingId, meetings.id), eq(meetingParticipants.userId, user.id), or(ne(meetings.status, 'draft'), eq(meetingParticipants.role, 'secretary')))),
        ),
        exists(
          q
            .select({ one: sql`1` })
            .from(committeeMembers)
            .where(and(eq(committeeMembers.committeeId, meetings.committeeId), eq(committeeMembers.userId, user.id), eq(committeeMembers.defaultRole, 'secretary'))),
        ),
      ),
    );
  return rows.map((r) => r.id);
}

export interface Candidate extends RankedGroup {
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
export async function search(ctx: SearchCtx, user: AuthUser, q: SearchQuery): Promise<SearchResults> {
  const { store } = ctx;
  const parsed = parseSearchQuery(q.q);
  const { terms } = parsed;
  if (!terms.length) return { query: q.q, hits: [] };
  let meetings = await searchableMeetingIds(store, user);
  if (q.meetingId !== undefined) meetings = meetings === null || meetings.includes(q.meetingId) ? [q.meetingId] : [];
  // Things granted outside those meetings (e.g. documents of a consultation), as [kind, refId] pairs.
  const granted: [string, number][] = [];
  if (meetings !== null && q.meetingId === undefined) for (const [kind, grants] of GRANTS) for (const id of await grants(ctx, user)) granted.push([kind, id]);
  if (meetings !== null && meetings.length === 0 && granted.length === 0) return { query: q.q, hits: [] };
  const candidates = await rankedCandidates(store, parsed, { meetings, granted });
  const phrase = terms.length > 1 ? terms : null;

  const visible = await visibleCandidates(ctx, user, candidates);
  const top = visible.slice(0, q.limit);
  const meetingTitles = await titlesOfMeetings(store, top.map((c) => c.meetingId));
  const hits: SearchHit[] = [];
  for (const c of top) {
    const pages = await bestPages(store, c, parsed);
    const body = pages.length ? pages[0].body : await firstBody(store, c.kind, c.refId);
    hits.push({
      kind: c.kind,
      refId: c.refId,
      meetingId: c.meetingId,
      meetingTitle: c.meetingId !== null ? (meetingTitles.get(c.meetingId) ?? null) : null,
      page: pages[0]?.page ?? null,
      title: c.title,
      titleParts: highlight(c.title, terms),
      snippet: snippet(body || c.title, terms, 180, phrase),
      pages: pages.map((p) => ({ page: p.page, snippet: snippet(p.body, terms, 140, phrase) })),
      score: c.score,
    });
  }
  for (const [kind, served] of SERVED) {
    const mine = hits.filter((h) => h.kind === kind);
    if (mine.length) await served(ctx, user, mine);
  }
  return { query: q.q, hits };
}

/**
 * The things matching a parsed query within `scope`, best first (tier, then bm25 / ts_rank_cd, then id),
 * before access checks: up to CANDIDATES per strategy. Dialect-free: the repository runs each `FtsQuery`
 * on SQLite or PostgreSQL.
 */
export async function rankedCandidates(store: Store, parsed: ParsedQuery, scope: SearchScope): Promise<Candidate[]> {
  const { terms } = parsed;
  if (!terms.length) return [];
  const phrase: FtsQuery | null = terms.length > 1 ? { phrases: [terms] } : null;
  const all: FtsQuery = { phrases: parsed.required };
  const titleAll: FtsQuery = { phrases: parsed.required, title: true };
  // Three strategies, so that a thing that should rank first (exact phrase, title) is never lost
  // behind CANDIDATES better-bm25 things that only hold the words.
  const candidates = new Map<number, Candidate>();
  const add = async (match: FtsQuery, tier: number) => {
    for (const r of await matchGroups(store, match, scope, TITLE_WEIGHT, CANDIDATES)) {
      const c = candidates.get(r.id);
      if (!c) candidates.set(r.id, { ...r, tier });
      else c.tier = Math.min(c.tier, tier);
    }
  };
  if (phrase) await add({ ...phrase, title: true }, 0);
  await add(titleAll, phrase ? 1 : 0);
  if (phrase && !parsed.quoted) await add(phrase, 2);
  await add(all, 3);
  // Tiers were set by the strategy that found a thing; a thing found only by a later strategy may
  // still qualify for an earlier tier: check the remaining ones on the candidates alone.
  const list = [...candidates.values()];
  await refineTiers(store, list, phrase, titleAll);
  return list.sort((a, b) => a.tier - b.tier || a.score - b.score || a.id - b.id);
}

/** The first entry's text of one thing (the snippet of a thing without pages). */
async function firstBody(store: Store, kind: string, refId: number): Promise<string> {
  const [row] = await store.q
    .select({ body: searchEntries.body })
    .from(searchEntries)
    .where(and(eq(searchEntries.kind, kind), eq(searchEntries.refId, refId)))
    .orderBy(asc(searchEntries.page), asc(searchEntries.id))
    .limit(1);
  return row?.body ?? '';
}

/** Lowers each candidate's tier where a stricter match also holds. */
async function refineTiers(store: Store, cands: Candidate[], phrase: FtsQuery | null, titleAll: FtsQuery): Promise<void> {
  if (!cands.length) return;
  const lower = async (match: FtsQuery, tier: number) => {
    const hit = await groupsMatching(store, match);
    for (const c of cands) if (c.tier > tier && hit.has(c.id)) c.tier = tier;
  };
  if (phrase) await lower({ ...phrase, title: true }, 0);
  await lower(titleAll, phrase ? 1 : 0);
  if (phrase) await lower(phrase, 2);
}

/** The candidates the user may see now, by each kind's access hook; unregistered kinds never. */
async function visibleCandidates(ctx: SearchCtx, user: AuthUser, cands: Candidate[]): Promise<Candidate[]> {
  const byKind = new Map<string, number[]>();
  for (const c of cands) byKind.set(c.kind, [...(byKind.get(c.kind) ?? []), c.refId]);
  const visible = new Map<string, Set<number>>();
  for (const [kind, refIds] of byKind) {
    const hook = KINDS.get(kind);
    visible.set(kind, hook ? await hook(ctx.store, user, [...new Set(refIds)]) : new Set());
  }
  return cands.filter((c) => visible.get(c.kind)?.has(c.refId));
}

async function titlesOfMeetings(store: Store, ids: (number | null)[]): Promise<Map<number, string>> {
  const wanted = [...new Set(ids.filter((x): x is number => x !== null))];
  if (!wanted.length) return new Map();
  const rows = await store.q.select({ id: meetings.id, title: meetings.title }).from(meetings).where(inArray(meetings.id, wanted));
  return new Map(rows.map((r) => [r.id, r.title]));
}

/**
 * The best pages of a paged thing for the query: pages holding the query as a phrase first, then
 * those holding more of its words, then bm25. Empty for things without pages.
 */
async function bestPages(store: Store, c: Candidate, parsed: ParsedQuery): Promise<{ page: number; body: string }[]> {
  const any: FtsQuery = { phrases: parsed.terms.map((t) => [t]), any: true };
  const rows = await matchPages(store, any, c.kind, c.refId);
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
export async function searchWithin(store: Store, kind: string, refId: number, query: string, limit = 2_000) {
  const terms = queryTerms(query);
  if (!terms.length) return { terms, pages: [] as { page: number; snippet: { text: string; hit: boolean }[] }[] };
  // Find-in-document matches the words as a phrase (in order, adjacent), like a reader's Ctrl+F.
  const rows = await matchEntries(store, { phrases: [terms] }, kind, refId, limit);
  return { terms, pages: rows.map((r) => ({ page: r.page ?? 0, snippet: snippet(r.body, terms, 120) })) };
}

export { removeIndexed, replaceIndexed } from './search.repo.js';
