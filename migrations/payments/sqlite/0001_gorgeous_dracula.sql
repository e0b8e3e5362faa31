CREATE TABLE `account_summaries` (
	`account_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`last_event_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `version`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `account_events_order_idx` ON `account_events` (`account_id`,("data"->>'orderId'));