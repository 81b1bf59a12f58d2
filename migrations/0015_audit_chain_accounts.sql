ALTER TABLE `audit_log` ADD `prev_hash` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `hash` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `stage` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `user_agent` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `ip` text;--> statement-breakpoint
ALTER TABLE `users` ADD `must_change_password` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_secret` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_last_step` integer;--> statement-breakpoint
CREATE TRIGGER `audit_log_chain` AFTER INSERT ON `audit_log` BEGIN
  UPDATE `audit_log`
     SET `prev_hash` = (SELECT `hash` FROM `audit_log` WHERE `id` < NEW.`id` ORDER BY `id` DESC LIMIT 1),
         `hash` = ec_audit_hash((SELECT `hash` FROM `audit_log` WHERE `id` < NEW.`id` ORDER BY `id` DESC LIMIT 1), NEW.`actor_id`, NEW.`action`, NEW.`target_type`, NEW.`target_id`, NEW.`details`, NEW.`at`)
   WHERE `id` = NEW.`id`;
END;
