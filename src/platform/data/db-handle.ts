import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/**
 * The query builder a module writes against, on either engine: select, insert, update, delete
 * (with where, returning, onConflictDoNothing/onConflictDoUpdate, orderBy, limit, offset) and raw
 * `sql`. drizzle has no engine-neutral type, so the builder is typed with its Postgres flavour and
 * narrowed to the calls both engines run the same; the SQLite store hands out the better-sqlite3
 * builder, whose calls produce the same runtime values (schema-kit.ts), and the dual-engine tests
 * hold both to it. What differs between engines (row locks, autocommitted statements) is not here
 * but a method of the store (module-store.ts), so module code never asks which engine it is on.
 */
export type Db = Pick<PgDatabase<PgQueryResultHKT, Record<string, never>>, 'select' | 'selectDistinct' | 'insert' | 'update' | 'delete' | 'execute' | '$count'>;
