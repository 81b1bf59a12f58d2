CREATE TABLE `realtime_commands` (
	`user_id` integer NOT NULL,
	`command_id` text NOT NULL,
	`event` text NOT NULL,
	`ack` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`user_id`, `command_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
