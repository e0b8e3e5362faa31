CREATE TABLE "payments"."account_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"version" integer NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments"."platform_dead_letters" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"handler" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"reason" text NOT NULL,
	"attempts" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"replayed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "payments"."platform_idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"response" jsonb,
	"headers" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "platform_idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "payments"."platform_inbox" (
	"event_id" text NOT NULL,
	"handler" text NOT NULL,
	"handled_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "platform_inbox_event_id_handler_pk" PRIMARY KEY("event_id","handler")
);
--> statement-breakpoint
CREATE TABLE "payments"."platform_outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"dispatched_at" timestamp (3) with time zone,
	CONSTRAINT "platform_outbox_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "payments"."account_snapshots" (
	"account_id" text NOT NULL,
	"version" integer NOT NULL,
	"state" jsonb NOT NULL,
	"last_event_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "account_snapshots_account_id_version_pk" PRIMARY KEY("account_id","version")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "account_events_stream_idx" ON "payments"."account_events" USING btree ("account_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "platform_dead_letters_event_handler_idx" ON "payments"."platform_dead_letters" USING btree ("event_id","handler");--> statement-breakpoint
CREATE INDEX "platform_outbox_pending_idx" ON "payments"."platform_outbox" USING btree ("dispatched_at","seq");