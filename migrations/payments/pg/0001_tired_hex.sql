CREATE TABLE "payments"."account_summaries" (
	"account_id" text NOT NULL,
	"version" integer NOT NULL,
	"state" jsonb NOT NULL,
	"last_event_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "account_summaries_account_id_version_pk" PRIMARY KEY("account_id","version")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "account_events_order_idx" ON "payments"."account_events" USING btree ("account_id",("data"->>'orderId'));