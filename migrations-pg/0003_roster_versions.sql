-- Change detection for a meeting's roster (participants, their attendance, their names) on PostgreSQL, in place of
-- SQLite's total_changes()/data_version (server/live/live.repo.ts participantRows). Every change to
-- meeting_participants or attendance sets the meeting's row here to a new value of a sequence, and a change to users'
-- names or titles sets the global row (meeting_id 0). A sequence value is never handed out twice, even by a
-- transaction that rolls back, so a roster cached under a key can never be confused with a later state; the reader
-- reads the key before the rows, so a commit in between only costs a re-read. Triggers, so it holds for every
-- writer, on every node.
CREATE SEQUENCE "live_roster_seq";
--> statement-breakpoint
CREATE TABLE "live_roster_versions" (
	"meeting_id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
CREATE FUNCTION ec_roster_bump(m integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO live_roster_versions AS v (meeting_id, version) VALUES (m, nextval('live_roster_seq'))
  ON CONFLICT (meeting_id) DO UPDATE SET version = excluded.version
$$;
--> statement-breakpoint
CREATE FUNCTION ec_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    PERFORM ec_roster_bump(0);
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN PERFORM ec_roster_bump(OLD.meeting_id); END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.meeting_id IS DISTINCT FROM OLD.meeting_id) THEN PERFORM ec_roster_bump(NEW.meeting_id); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "meeting_participants_roster" AFTER INSERT OR UPDATE OR DELETE ON "meeting_participants"
  FOR EACH ROW EXECUTE FUNCTION ec_roster_changed();
--> statement-breakpoint
CREATE TRIGGER "attendance_roster" AFTER INSERT OR UPDATE OR DELETE ON "attendance"
  FOR EACH ROW EXECUTE FUNCTION ec_roster_changed();
--> statement-breakpoint
CREATE TRIGGER "users_roster" AFTER UPDATE OF "full_name", "title" OR DELETE ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION ec_roster_changed();
