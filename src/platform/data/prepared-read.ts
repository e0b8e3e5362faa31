// A read a module runs on every request, built once: drizzle then skips building the same select
// and rendering its SQL per request (most of the kernel's own time on the catalog's lookup under
// load), and runs the statement it prepared with the request's values bound to placeholders. It
// lives here because it needs the store's engine, which modules never touch.
import { sql, type SQL } from 'drizzle-orm';
import type { Db, ModuleStore } from './module-store.ts';

interface Preparable {
  prepare(name?: string): { client: unknown; execute(values: Record<string, unknown>): unknown };
}

/**
 * Prepares `build`'s query: a named server-side statement on Postgres; on SQLite, a statement on
 * each of the store's two connections. The answer runs it with `values` for the placeholders
 * (`sql.placeholder(name)`) and resolves to its rows.
 *
 * On SQLite the read runs on the writer connection whenever no unit of work is open on it (the
 * check and the read are one synchronous step, so no unit can open in between), else on the
 * reader. In WAL mode a connection drops its whole page cache when it starts a read after another
 * connection committed; the reader, after every commit of a busy store, read its pages afresh
 * (2–4× the time of the same point lookup on the writer, whose cache its own commits keep valid:
 * decision 20). Either way the read sees committed data only.
 */
export function preparedRead<Row>(store: ModuleStore, name: string, build: (db: Db) => unknown): (values: Record<string, unknown>) => Promise<Row[]> {
  const engine = store.engine;
  if (engine.dialect === 'pg') {
    const prepared = (build(engine.pool as unknown as Db) as Preparable).prepare(name);
    // Run beside the store's other reads of the moment, in one round trip (pg-read-group.ts).
    prepared.client = engine.reads;
    return async (values) => (await prepared.execute(values)) as Row[];
  }
  const onReader = (build(engine.reader as unknown as Db) as SqlitePreparable).prepare();
  const onWriter = (build(engine.writer as unknown as Db) as SqlitePreparable).prepare();
  // The reader refuses writes (query_only); the writer would not, so a read is checked to be one.
  if (onWriter.stmt.readonly === false) throw new Error(`preparedRead ${name}: the statement writes; a write belongs in a unit of work (preparedWrite)`);
  const writer = (engine.writer as unknown as { $client: { inTransaction: boolean } }).$client;
  return async (values) => {
    // SQLite binds no arrays: a list for inList travels as JSON text.
    let bound = values;
    for (const key in values) if (Array.isArray(values[key])) bound = { ...bound, [key]: JSON.stringify(values[key]) };
    return (writer.inTransaction ? onReader : onWriter).all(bound) as Row[];
  };
}

/** What drizzle's better-sqlite3 driver returns from `.prepare()`: synchronous calls. */
interface SqlitePreparable {
  prepare(): { all(values: Record<string, unknown>): unknown[]; stmt: { readonly: boolean } };
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
