-- Whole-thing full-text index (server/search): foldText(title) and foldText(every body of the thing)
-- as two columns, so a query's words may sit on different pages of one document and title matches
-- weigh more (bm25 column weights). Contentless: the original text lives in search_entries; rows of
-- search_groups (same rowid) are deleted explicitly. Built by the server at start for things indexed
-- before this table existed.
CREATE VIRTUAL TABLE `search_groups_fts` USING fts5(`title`, `body`, tokenize = 'unicode61 remove_diacritics 2', content = '', contentless_delete = 1);
