ALTER TABLE `live_state` ADD `floor_open_discussion` integer;--> statement-breakpoint
ALTER TABLE `live_state` ADD `floor_chair_muted` text;