CREATE TABLE `platform_dead_letters` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`handler` text NOT NULL,
	`envelope` text NOT NULL,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`created_at` integer NOT NULL,
	`replayed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `platform_dead_letters_event_handler_idx` ON `platform_dead_letters` (`event_id`,`handler`);--> statement-breakpoint
CREATE TABLE `order_history` (
	`order_id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`item_count` integer,
	`total_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`placed_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `order_history_customer_idx` ON `order_history` (`customer_id`,`placed_at`);--> statement-breakpoint
CREATE TABLE `platform_idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer,
	`response` text,
	`headers` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE TABLE `platform_inbox` (
	`event_id` text NOT NULL,
	`handler` text NOT NULL,
	`handled_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `handler`)
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`lines` text NOT NULL,
	`total_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`payment_method` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orders_customer_idx` ON `orders` (`customer_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `platform_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`envelope` text NOT NULL,
	`created_at` integer NOT NULL,
	`dispatched_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `platform_outbox_id_unique` ON `platform_outbox` (`id`);--> statement-breakpoint
CREATE INDEX `platform_outbox_pending_idx` ON `platform_outbox` (`dispatched_at`,`seq`);--> statement-breakpoint
CREATE TABLE `sagas` (
	`order_id` text PRIMARY KEY NOT NULL,
	`plan` text NOT NULL,
	`reason` text,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`done` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sagas_due_idx` ON `sagas` (`done`,`next_attempt_at`);