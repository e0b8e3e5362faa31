ALTER TABLE `sagas` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `sagas` ADD `correlation_id` text;--> statement-breakpoint
ALTER TABLE `sagas` ADD `traceparent` text;