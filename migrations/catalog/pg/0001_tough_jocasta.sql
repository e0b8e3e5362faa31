-- The new index is built before the old one goes, so the outbox stays readable while it builds
-- (CREATE INDEX holds a SHARE lock: reads go on, writes wait; DROP INDEX takes ACCESS EXCLUSIVE,
-- held until the migration commits, so it comes last). On a large outbox, build it beforehand
-- without blocking writes, outside a transaction:
--   CREATE INDEX CONCURRENTLY platform_outbox_undispatched_idx ON "catalog".platform_outbox (seq) WHERE dispatched_at IS NULL;
-- and this migration skips it (decision 23).
CREATE INDEX IF NOT EXISTS "platform_outbox_undispatched_idx" ON "catalog"."platform_outbox" USING btree ("seq") WHERE "catalog"."platform_outbox"."dispatched_at" is null;--> statement-breakpoint
DROP INDEX IF EXISTS "catalog"."platform_outbox_pending_idx";
