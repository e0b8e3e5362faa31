ALTER TABLE "inventory"."stock" ALTER COLUMN "on_hand" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "inventory"."stock" ALTER COLUMN "reserved" SET DATA TYPE bigint;