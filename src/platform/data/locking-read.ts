// A read-modify-write inside a unit of work must not lose a concurrent update. On SQLite the unit
// of work already holds the database's write lock (BEGIN IMMEDIATE), so a plain read is enough;
// on Postgres the row is locked with SELECT ... FOR UPDATE until the transaction ends.
import type { Dialect } from './schema-kit.ts';

interface Lockable<T> {
  for(strength: 'update'): PromiseLike<T>;
}

export function lockingRead<T>(dialect: Dialect, query: Lockable<T> & PromiseLike<T>): PromiseLike<T> {
  return dialect === 'pg' ? query.for('update') : query;
}
