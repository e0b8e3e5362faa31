DROP INDEX `platform_outbox_pending_idx`;--> statement-breakpoint
CREATE INDEX `platform_outbox_undispatched_idx` ON `platform_outbox` (`seq`) WHERE "platform_outbox"."dispatched_at" is null;