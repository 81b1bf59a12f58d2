-- unaccent (PostgreSQL contrib: Debian's postgresql package ships it; trusted, so a database owner may create
-- it) and ec_search_fold(text), the app's Vietnamese folding (shared/rules/fold.ts foldText: marks stripped,
-- đ/Đ → d, lowercase) in SQL, for SQL written by hand against the full-text index:
--   select kind, ref_id from search_groups where fts @@ plainto_tsquery('simple', ec_search_fold('Chuyển đổi số'))
-- đ/Đ are mapped explicitly: not every unaccent rules file maps them. The app itself folds in TypeScript,
-- on both stores (server/search/search.repo.ts): unaccent equals foldText on every Vietnamese letter but
-- not on others (æ → ae, ß → ss, ø → o …), and the same query must find the same things on SQLite.
CREATE EXTENSION IF NOT EXISTS unaccent;
--> statement-breakpoint
CREATE FUNCTION ec_search_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(translate(public.unaccent('public.unaccent'::regdictionary, t), 'đĐ', 'dd')) $$;
