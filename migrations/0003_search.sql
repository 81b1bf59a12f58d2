-- Full-text index over folded text (shared/rules/foldText: NFD, marks stripped, đ→d, lowercase).
-- Contentless: the original text lives in search_entries (same rowid); rows are deleted explicitly.
CREATE VIRTUAL TABLE `search_fts` USING fts5(`text`, tokenize = 'unicode61 remove_diacritics 2', content = '', contentless_delete = 1);
