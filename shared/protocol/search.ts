import { z } from 'zod';
import { Id, PathId, UrlInt } from './common.js';

export const SearchQuery = z.strictObject({
  q: z.string().trim().min(1).max(200),
  meetingId: PathId.optional(),
  limit: UrlInt(1, 100).default(20),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** A piece of a snippet; `hit` pieces matched the query (render them highlighted). */
export const SnippetPart = z.object({ text: z.string(), hit: z.boolean() });

/** One of the best pages of a document for the query. */
export const SearchPage = z.object({ page: z.number(), snippet: z.array(SnippetPart) });

/** One result: a whole thing (a document with its best pages, an agenda item, a meeting, minutes…). */
export const SearchHit = z.object({
  /** `meeting`, `agenda_item`, `document`, and kinds other domains register (`minutes`, `conclusion`, ...). */
  kind: z.string(),
  refId: z.number(),
  meetingId: z.number().nullable(),
  /** Title of the meeting the thing belongs to (context for the reader), null when none. */
  meetingTitle: z.string().nullable(),
  /** The best page for documents (open the viewer there), else null. */
  page: z.number().nullable(),
  title: z.string(),
  /** The title with the query's words marked. */
  titleParts: z.array(SnippetPart),
  /** Text around the best match (of the best page for documents). */
  snippet: z.array(SnippetPart),
  /** Documents: up to 3 best pages, best first (the first is `page`); empty for other kinds. */
  pages: z.array(SearchPage),
  /** bm25 over the whole thing, title weighted (lower is better); results are already in rank order. */
  score: z.number(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResults = z.object({ query: z.string(), hits: z.array(SearchHit) });
export type SearchResults = z.infer<typeof SearchResults>;
