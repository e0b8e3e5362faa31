// On SQLite: a module's store is its own file, and SQLite has no permissions to stop a
// connection from opening another file with ATTACH DATABASE (query_only does not stop it either).
// So every statement a module's connection prepares or executes is screened: ATTACH is refused.
// Opening another file directly (new Database(...)) is closed by the static rule
// modules-use-their-own-store. SQLite parses one statement per prepare, and ATTACH can only
// stand first in a statement, so looking at the first keyword after comments is enough.
import type Database from 'better-sqlite3';

export class AttachRefused extends Error {
  constructor(module: string) {
    super(`The ${module} store may not ATTACH another database: each module owns its own file and reaches others through their contracts`);
    this.name = 'AttachRefused';
  }
}

const LEADING_NOISE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const ATTACH = /^attach\b/i;
// exec() takes a script of several statements; one naming ATTACH after a semicolon is refused
// too (a string literal containing "; attach" is refused as well: a false alarm, never a leak).
const ATTACH_IN_SCRIPT = /(?:^|;)(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*attach\b/i;

export function attaches(sql: string): boolean {
  return ATTACH.test(sql.replace(LEADING_NOISE, ''));
}

/** Makes this connection refuse ATTACH DATABASE; returns the same connection. */
export function refuseAttach(db: Database.Database, module: string): Database.Database {
  const prepare = db.prepare.bind(db) as (...args: unknown[]) => Database.Statement;
  const exec = db.exec.bind(db);
  db.prepare = ((source: string, ...rest: unknown[]) => {
    if (typeof source === 'string' && attaches(source)) throw new AttachRefused(module);
    return prepare(source, ...rest);
  }) as typeof db.prepare;
  db.exec = ((source: string) => {
    if (typeof source === 'string' && ATTACH_IN_SCRIPT.test(source)) throw new AttachRefused(module);
    return exec(source);
  }) as typeof db.exec;
  return db;
}
