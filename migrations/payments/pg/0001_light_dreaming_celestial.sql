CREATE TABLE "payments"."account_summaries" (
	"account_id" text NOT NULL,
	"version" integer NOT NULL,
	"state" jsonb NOT NULL,
	"last_event_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "account_summaries_account_id_version_pk" PRIMARY KEY("account_id","version")
);
--> statement-breakpoint
ALTER TABLE "payments"."account_events" ADD COLUMN "order_id" text GENERATED ALWAYS AS ("data"->>'orderId') STORED;--> statement-breakpoint
CREATE INDEX "account_events_order_idx" ON "payments"."account_events" USING btree ("account_id","order_id");