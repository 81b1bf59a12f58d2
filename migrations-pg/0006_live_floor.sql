ALTER TABLE "live_state" ADD COLUMN "floor_open_discussion" boolean;--> statement-breakpoint
ALTER TABLE "live_state" ADD COLUMN "floor_chair_muted" jsonb;