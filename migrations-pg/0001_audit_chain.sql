-- The audit log's hash chain on PostgreSQL: the twin of SQLite's `audit_log_chain` trigger (migration
-- 0015 of migrations/) and of server/audit/audit.chain.ts's auditHash. Same canonical encoding, byte for
-- byte: the JSON array [prev_hash or "", actor_id, action, target_type, target_id, details as stored
-- (its JSON text), at as ISO-8601 UTC with milliseconds], without spaces, SHA-256 in hex; `details` is a
-- `json` column, which keeps the text as written.
--
-- Order: SQLite serialises writers, so "the previous entry" is the one of the previous commit. Here the
-- statement-level trigger takes a transaction-level advisory lock before any row of the INSERT gets its
-- id, so ids are drawn in lock order, and the lock is held until commit: the previous id is also the
-- previous commit. The row trigger then reads the previous hash with a fresh snapshot (READ COMMITTED;
-- other isolation levels would read a stale one and are refused). Explicit ids (a copy of an existing
-- installation) are kept, and re-chained in the order inserted.
CREATE FUNCTION ec_audit_hash(prev text, actor integer, action text, target_type text, target_id text, details text, at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(
    '[' || to_json(coalesce(prev, ''))::text || ',' || coalesce(actor::text, 'null') || ',' || to_json(action)::text || ','
        || to_json(target_type)::text || ',' || coalesce(to_json(target_id)::text, 'null') || ',' || coalesce(to_json(details)::text, 'null') || ','
        || to_json(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text || ']', 'UTF8')), 'hex')
$$;
--> statement-breakpoint
CREATE FUNCTION ec_audit_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log is written in READ COMMITTED transactions only (the chain reads the previous entry)';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('ec.audit_log_chain'));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION ec_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.prev_hash := (SELECT hash FROM audit_log WHERE id < NEW.id ORDER BY id DESC LIMIT 1);
  NEW.hash := ec_audit_hash(NEW.prev_hash, NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.details::text, NEW.at);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_lock BEFORE INSERT ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION ec_audit_lock();
--> statement-breakpoint
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION ec_audit_chain();
