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

export const SearchHit = z.object({
  /** `agenda_item`, `document`, and kinds other domains register (`minutes`, `conclusion`, ...). */
  kind: z.string(),
  refId: z.number(),
  meetingId: z.number().nullable(),
  /** 1-based page for documents (open the viewer there), else null. */
  page: z.number().nullable(),
  title: z.string(),
  snippet: z.array(SnippetPart),
  /** bm25 score (lower is better), for debugging and ordering across kinds. */
  score: z.number(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResults = z.object({ query: z.string(), hits: z.array(SearchHit) });
export type SearchResults = z.infer<typeof SearchResults>;
