ALTER TABLE `vote_committee_settings` ADD `max_proxies` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `vote_committee_settings` ADD `substitutes_may_vote` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `vote_committee_settings` ADD `substitutes_count_present` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `vote_committee_settings` ADD `majority` text DEFAULT 'absolute_members' NOT NULL;--> statement-breakpoint
ALTER TABLE `votes` ADD `quorum_override_reason` text;--> statement-breakpoint
ALTER TABLE `votes` ADD `annulled_at` text;--> statement-breakpoint
ALTER TABLE `votes` ADD `annul_reason` text;--> statement-breakpoint
ALTER TABLE `votes` ADD `rerun_of` integer;--> statement-breakpoint
ALTER TABLE `votes` ADD `bloc` text;--> statement-breakpoint
ALTER TABLE `attendance` ADD `proxy_kind` text;