import { foldText, normalizeText, queryTerms } from '../../shared/rules/fold.js';
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

const KINDS = new Map<string, SearchVisibility>();
const GRANTS = new Map<string, SearchGrants>();

/** Declares a searchable kind and its access rule. Hits of unregistered kinds are never returned. */
export function registerSearchKind(kind: string, visible: SearchVisibility, opts: { grants?: SearchGrants } = {}): void {
  KINDS.set(kind, visible);
  if (opts.grants) GRANTS.set(kind, opts.grants);
  else GRANTS.delete(kind);
}

/** Adds entries to the index. Call inside the `tx()` that changes the indexed content. */
export function indexEntries(db: Db, entries: IndexEntry[]): void {
  if (!entries.length) return;
  const insEntry = db.$client.prepare('insert into search_entries (kind, ref_id, meeting_id, page, title, body) values (?, ?, ?, ?, ?, ?)');
  const insFts = db.$client.prepare('insert into search_fts (rowid, text) values (?, ?)');
  for (const e of entries) {
    const title = normalizeText(e.title);
    const body = normalizeText(e.body);
    const r = insEntry.run(e.kind, e.refId, e.meetingId, e.page ?? null, title, body);
    insFts.run(r.lastInsertRowid, foldText(title) + '\n' + foldText(body));
  }
}

/** Removes every entry of `kind` for the given ref ids. Call inside the changing `tx()`. */
export function removeEntries(db: Db, kind: string, refIds: number[]): void {
  const ids = db.$client.prepare('select id from search_entries where kind = ? and ref_id = ?');
  const delFts = db.$client.prepare('delete from search_fts where rowid = ?');
  const delEntry = db.$client.prepare('delete from search_entries where id = ?');
  for (const refId of refIds) {
    for (const row of ids.all(kind, refId) as { id: number }[]) {
      delFts.run(row.id);
      delEntry.run(row.id);
    }
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

interface Row {
  id: number;
  kind: string;
  refId: number;
  meetingId: number | null;
  page: number | null;
  score: number;
}

/**
 * Full-text search over everything the user may see. The query is folded the same way as the
 * index (so "chuyen doi so" finds "Chuyển đổi số"), every term must match, hits are ranked by
 * bm25 and filtered by the kind's access hook, and each carries a highlighted snippet cut from
 * the original text.
 */
export function search(db: Db, user: AuthUser, q: SearchQuery): SearchResults {
  const terms = queryTerms(q.q);
  if (!terms.length) return { query: q.q, hits: [] };
  const match = terms.map((t) => `"${t}"`).join(' ');
  let meetings = searchableMeetingIds(db, user);
  if (q.meetingId !== undefined) meetings = meetings === null || meetings.includes(q.meetingId) ? [q.meetingId] : [];
  // Entries granted outside those meetings (e.g. documents of a consultation), as [kind, refId] pairs.
  const granted: [string, number][] = [];
  if (meetings !== null && q.meetingId === undefined) for (const [kind, grants] of GRANTS) for (const id of grants(db, user)) granted.push([kind, id]);
  if (meetings !== null && meetings.length === 0 && granted.length === 0) return { query: q.q, hits: [] };
  const scope =
    meetings === null
      ? ''
      : `and (e.meeting_id in (select value from json_each(?))
              or exists (select 1 from json_each(?) g where json_extract(g.value, '$[0]') = e.kind and json_extract(g.value, '$[1]') = e.ref_id))`;
  // Rank without the text columns (the sorter then holds small rows, not every matching page's
  // body); texts are read afterwards for the few hits returned.
  const stmt = db.$client.prepare(
    `select e.id, e.kind, e.ref_id as refId, e.meeting_id as meetingId, e.page, bm25(search_fts) as score
       from search_fts join search_entries e on e.id = search_fts.rowid
      where search_fts match ? ${scope}
      order by score limit ? offset ?`,
  );
  const texts = db.$client.prepare('select title, body from search_entries where id = ?');
  const hits: SearchHit[] = [];
  const batch = Math.max(50, q.limit * 4);
  // Page through candidates until enough visible hits are found (bounded: a user who may see
  // little of a large index must not make one query scan everything).
  for (let offset = 0; hits.length < q.limit && offset < batch * 10; offset += batch) {
    const args: unknown[] = [match];
    if (meetings !== null) args.push(JSON.stringify(meetings), JSON.stringify(granted));
    args.push(batch, offset);
    const rows = stmt.all(...args) as Row[];
    const visible = new Map<string, Set<number>>();
    for (const kind of new Set(rows.map((r) => r.kind))) {
      const hook = KINDS.get(kind);
      visible.set(kind, hook ? hook(db, user, [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.refId))]) : new Set());
    }
    for (const r of rows) {
      if (!visible.get(r.kind)?.has(r.refId)) continue;
      const t = texts.get(r.id) as { title: string; body: string };
      hits.push({ kind: r.kind, refId: r.refId, meetingId: r.meetingId, page: r.page, title: t.title, snippet: snippet(t.body || t.title, terms), score: r.score });
      if (hits.length >= q.limit) break;
    }
    if (rows.length < batch) break;
  }
  return { query: q.q, hits };
}

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

/**
 * About `width` characters of `text` around the first match of any term, split into parts with
 * the matching words marked. Offsets come from the aligned fold, so the parts are the original text.
 */
export function snippet(text: string, terms: string[], width = 180): { text: string; hit: boolean }[] {
  const folded = foldText(text);
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${terms.map(escapeRe).join('|')})(?![\\p{L}\\p{N}])`, 'gu');
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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
