ALTER TABLE "orders"."sagas" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "orders"."sagas" ADD COLUMN "correlation_id" text;--> statement-breakpoint
ALTER TABLE "orders"."sagas" ADD COLUMN "traceparent" text;