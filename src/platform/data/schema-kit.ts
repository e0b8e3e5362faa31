// A module declares its tables once (db/schema.ts) and gets them built for the engine in use,
// together with the platform's own tables.
import { pgKit, sqliteKit, type Dialect, type SchemaKit } from './column-kits.ts';
import { join, resolve } from 'node:path';
import { migrationsRoot } from './migrations-root.ts';
import { platformTables } from './platform-tables.ts';

export type { Dialect, SchemaKit } from './column-kits.ts';

export type PlatformTables = ReturnType<typeof platformTables>;

export interface ModuleSchema<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly module: string;
  /** Absolute path of its generated migrations: migrations/<module>/ unless the schema says otherwise. */
  readonly migrationsDir: string;
  /** The module's own tables plus the platform's (outbox, inbox, dead letters, idempotency keys). */
  tables(dialect: Dialect): T & PlatformTables;
}

/** Declares a module's tables once for both engines. */
export function defineSchema<T extends Record<string, unknown>>(
  module: string,
  build: (kit: SchemaKit) => T,
  /** migrationsDir is relative to the repository root. */
  options: { migrationsDir?: string } = {},
): ModuleSchema<T> {
  const cache = new Map<Dialect, T & PlatformTables>();
  return {
    module,
    // Resolved on use: drizzle-kit loads schema files as CommonJS, where import.meta is empty.
    get migrationsDir() {
      return resolve(migrationsRoot(), options.migrationsDir ?? join('migrations', module));
    },
    tables(dialect) {
      let tables = cache.get(dialect);
      if (!tables) {
        const kit = dialect === 'pg' ? pgKit(module) : sqliteKit();
        tables = { ...build(kit), ...platformTables(kit) };
        cache.set(dialect, tables);
      }
      return tables;
    },
  };
}
