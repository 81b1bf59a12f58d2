CREATE TABLE "meeting_owners" (
	"meeting_id" integer PRIMARY KEY NOT NULL,
	"node_id" text NOT NULL,
	"epoch" integer NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "meeting_owners" ADD CONSTRAINT "meeting_owners_meeting_id_meetings_id_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;