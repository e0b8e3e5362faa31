// A read a module runs on every request, built once: drizzle then skips building the same select
// and rendering its SQL per request (most of the kernel's own time on the catalog's lookup under
// load), and runs the statement it prepared with the request's values bound to placeholders. It
// lives here because it needs the store's engine, which modules never touch.
import { sql, type SQL } from 'drizzle-orm';
import type { Db, ModuleStore } from './module-store.ts';

interface Preparable {
  prepare(name?: string): { execute(values: Record<string, unknown>): unknown };
}

/**
 * Prepares `build`'s query on the store's read handle: a statement of the reader connection on
 * SQLite, a named server-side statement on Postgres. The answer runs it with `values` for the
 * placeholders (`sql.placeholder(name)`) and resolves to its rows.
 */
export function preparedRead<Row>(store: ModuleStore, name: string, build: (db: Db) => unknown): (values: Record<string, unknown>) => Promise<Row[]> {
  const engine = store.engine;
  const handle = (engine.dialect === 'sqlite' ? engine.reader : engine.pool) as unknown as Db;
  const query = build(handle) as Preparable;
  const prepared = query.prepare(engine.dialect === 'pg' ? name : undefined);
  if (engine.dialect === 'pg') return async (values) => (await prepared.execute(values)) as Row[];
  // SQLite binds no arrays: a list for inList travels as JSON text.
  return async (values) => {
    let bound = values;
    for (const key in values) if (Array.isArray(values[key])) bound = { ...bound, [key]: JSON.stringify(values[key]) };
    return (await prepared.execute(bound)) as Row[];
  };
}

/**
 * `column` is one of the values of the list bound to `name` (pass the array itself): one prepared
 * statement for a list of any length, where drizzle's inArray renders a statement per length.
 */
export function inList(store: ModuleStore, column: unknown, name: string): SQL {
  return store.engine.dialect === 'sqlite'
    ? sql`${column} in (select value from json_each(${sql.placeholder(name)}))`
    : sql`${column} = any(${sql.placeholder(name)})`;
}
