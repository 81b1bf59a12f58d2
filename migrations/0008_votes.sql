-- vote_participation and vote_secret_ballots are WITHOUT ROWID (added by hand; drizzle-kit does not
-- model it): rows are stored in key order, so no rowid reveals the order ballots arrived in.
CREATE TABLE `consultation_answers` (
	`consultation_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`answer` text NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`answered_at` text NOT NULL,
	PRIMARY KEY(`consultation_id`, `user_id`),
	FOREIGN KEY (`consultation_id`) REFERENCES `consultations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `consultation_recipients` (
	`consultation_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	PRIMARY KEY(`consultation_id`, `user_id`),
	FOREIGN KEY (`consultation_id`) REFERENCES `consultations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `consultations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`committee_id` integer NOT NULL,
	`title` text NOT NULL,
	`question` text NOT NULL,
	`document_ids` text DEFAULT '[]' NOT NULL,
	`deadline` text NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`closed_at` text,
	`created_by` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`committee_id`) REFERENCES `committees`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `consultations_committee_idx` ON `consultations` (`committee_id`,`state`);--> statement-breakpoint
CREATE TABLE `vote_committee_settings` (
	`committee_id` integer PRIMARY KEY NOT NULL,
	`delegator_may_vote` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`committee_id`) REFERENCES `committees`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `vote_delegations` (
	`meeting_id` integer NOT NULL,
	`from_user_id` integer NOT NULL,
	`to_user_id` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`meeting_id`, `from_user_id`),
	FOREIGN KEY (`meeting_id`) REFERENCES `meetings`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`from_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`to_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `vote_delegations_to_idx` ON `vote_delegations` (`meeting_id`,`to_user_id`);--> statement-breakpoint
CREATE TABLE `vote_eligibility` (
	`vote_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	PRIMARY KEY(`vote_id`, `user_id`),
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `vote_named_ballots` (
	`vote_id` integer NOT NULL,
	`voter_id` integer NOT NULL,
	`choices` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`vote_id`, `voter_id`),
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`voter_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `vote_participation` (
	`vote_id` integer NOT NULL,
	`voter_id` integer NOT NULL,
	`cast_by` integer NOT NULL,
	PRIMARY KEY(`vote_id`, `voter_id`),
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`voter_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `vote_secret_ballots` (
	`vote_id` integer NOT NULL,
	`receipt_key` blob NOT NULL,
	`choices` text NOT NULL,
	PRIMARY KEY(`vote_id`, `receipt_key`),
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `votes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`meeting_id` integer NOT NULL,
	`agenda_item_id` integer,
	`title` text NOT NULL,
	`kind` text NOT NULL,
	`secret` integer NOT NULL,
	`options` text NOT NULL,
	`max_choices` integer NOT NULL,
	`seats` integer NOT NULL,
	`majority` text NOT NULL,
	`abstentions` text NOT NULL,
	`tie_break` text NOT NULL,
	`quorum` text NOT NULL,
	`duration_seconds` integer,
	`state` text DEFAULT 'draft' NOT NULL,
	`opened_at` text,
	`closes_at` text,
	`closed_at` text,
	`announced_at` text,
	`result` text,
	`created_by` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`meeting_id`) REFERENCES `meetings`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`agenda_item_id`) REFERENCES `agenda_items`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `votes_meeting_idx` ON `votes` (`meeting_id`,`state`);