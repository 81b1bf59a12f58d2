CREATE TABLE `search_groups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`ref_id` integer NOT NULL,
	`meeting_id` integer,
	`title` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_groups_ref_idx` ON `search_groups` (`kind`,`ref_id`);--> statement-breakpoint
CREATE INDEX `search_groups_meeting_idx` ON `search_groups` (`meeting_id`);