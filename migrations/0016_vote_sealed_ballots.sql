-- WITHOUT ROWID added by hand (drizzle-kit does not model it): no rowid records the order sealed ballots
-- arrived in. See server/votes/votes.ballots.ts and docs/VOTING.md.
CREATE TABLE `vote_sealed_ballots` (
	`vote_id` integer NOT NULL,
	`tag` blob NOT NULL,
	`sealed` blob NOT NULL,
	PRIMARY KEY(`vote_id`, `tag`),
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
