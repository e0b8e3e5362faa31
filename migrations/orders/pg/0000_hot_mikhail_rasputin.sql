CREATE TABLE "orders"."platform_dead_letters" (
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
CREATE TABLE "orders"."order_history" (
	"order_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"item_count" integer,
	"total_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"placed_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."platform_idempotency_keys" (
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
CREATE TABLE "orders"."platform_inbox" (
	"event_id" text NOT NULL,
	"handler" text NOT NULL,
	"handled_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "platform_inbox_event_id_handler_pk" PRIMARY KEY("event_id","handler")
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"lines" jsonb NOT NULL,
	"total_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"payment_method" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."platform_outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"dispatched_at" timestamp (3) with time zone,
	CONSTRAINT "platform_outbox_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "orders"."sagas" (
	"order_id" text PRIMARY KEY NOT NULL,
	"plan" jsonb NOT NULL,
	"reason" text,
	"attempts" integer NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"last_error" text,
	"started_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"done" boolean NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "platform_dead_letters_event_handler_idx" ON "orders"."platform_dead_letters" USING btree ("event_id","handler");--> statement-breakpoint
CREATE INDEX "order_history_customer_idx" ON "orders"."order_history" USING btree ("customer_id","placed_at");--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "orders"."orders" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "platform_outbox_pending_idx" ON "orders"."platform_outbox" USING btree ("dispatched_at","seq");--> statement-breakpoint
CREATE INDEX "sagas_due_idx" ON "orders"."sagas" USING btree ("done","next_attempt_at");