CREATE TABLE `account_summaries` (
	`account_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`last_event_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `version`)
);
--> statement-breakpoint
ALTER TABLE `account_events` ADD `order_id` text GENERATED ALWAYS AS (json_extract("data", '$.orderId')) VIRTUAL;--> statement-breakpoint
CREATE INDEX `account_events_order_idx` ON `account_events` (`account_id`,`order_id`);