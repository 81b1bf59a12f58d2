CREATE TABLE `annotation_items` (
	`doc_name` text NOT NULL,
	`version_id` integer NOT NULL,
	`item_id` text NOT NULL,
	`document_id` integer NOT NULL,
	`layer` text NOT NULL,
	`meeting_id` integer,
	`owner_id` integer NOT NULL,
	`source_id` text,
	`kind` text NOT NULL,
	`page` integer NOT NULL,
	`text` text NOT NULL,
	`color` text NOT NULL,
	`status` text,
	`updated_at` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`doc_name`, `version_id`, `item_id`)
);
--> statement-breakpoint
CREATE INDEX `annotation_items_owner_idx` ON `annotation_items` (`owner_id`,`document_id`,`version_id`);--> statement-breakpoint
CREATE INDEX `annotation_items_version_idx` ON `annotation_items` (`version_id`);