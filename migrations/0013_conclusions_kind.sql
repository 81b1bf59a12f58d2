DROP INDEX `conclusions_item_idx`;--> statement-breakpoint
ALTER TABLE `conclusions` ADD `kind` text DEFAULT 'decision' NOT NULL;--> statement-breakpoint
CREATE INDEX `conclusions_item_idx` ON `conclusions` (`agenda_item_id`);--> statement-breakpoint
ALTER TABLE `tasks` ADD `expected_result` text DEFAULT '' NOT NULL;