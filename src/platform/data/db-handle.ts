import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/**
 * The query handle a module writes against. Typed as drizzle's Postgres database; on SQLite the
 * same query-builder calls run on better-sqlite3 (see schema-kit.ts for why that holds).
 * Stick to the builder API both engines share: select/insert/update/delete, where, returning,
 * onConflictDoNothing/onConflictDoUpdate, orderBy, limit, offset.
 */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;
