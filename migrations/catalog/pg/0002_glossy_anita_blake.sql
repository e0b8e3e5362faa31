-- Indexes for the housekeeping sweeps' due columns (decision 33). CREATE INDEX holds a SHARE lock
-- on its table while it builds (reads go on, writes wait), and the module's pending migrations run
-- in one transaction. On large tables, build them beforehand without blocking writes, outside a
-- transaction:
--   CREATE INDEX CONCURRENTLY platform_idempotency_keys_expires_at_idx ON "catalog".platform_idempotency_keys (expires_at);
--   CREATE INDEX CONCURRENTLY platform_inbox_handled_at_idx ON "catalog".platform_inbox (handled_at);
-- and this migration skips them.
CREATE INDEX IF NOT EXISTS "platform_idempotency_keys_expires_at_idx" ON "catalog"."platform_idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "platform_inbox_handled_at_idx" ON "catalog"."platform_inbox" USING btree ("handled_at");