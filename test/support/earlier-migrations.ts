// A module's schema as an earlier version of the code left it: a scratch copy of its migrations
// holding only the first ones, for upgrade tests (migrate the copy, write what that version wrote,
// then migrate the real schema over it).
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleSchema } from '../../src/platform/data/schema-kit.ts';

export interface MigrationEntry {
  idx: number;
  tag: string;
  /** The migration's SQL text. */
  sql: string;
}

/**
 * `schema` with, on each engine, only the migrations before the first one `upTo` picks (or the
 * first `upTo` of them, given a number), copied under `scratch`.
 */
export function schemaBefore(schema: ModuleSchema, scratch: string, upTo: number | ((m: MigrationEntry) => boolean)): ModuleSchema {
  for (const dialect of ['sqlite', 'pg']) {
    const from = join(schema.migrationsDir, dialect);
    const to = join(scratch, dialect);
    mkdirSync(join(to, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(from, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
    const count =
      typeof upTo === 'number' ? upTo : journal.entries.findIndex((e) => upTo({ ...e, sql: readFileSync(join(from, `${e.tag}.sql`), 'utf8') }));
    if (count <= 0) throw new Error(`${schema.module} (${dialect}): no earlier migration to stop at`);
    journal.entries = journal.entries.slice(0, count);
    writeFileSync(join(to, 'meta/_journal.json'), JSON.stringify(journal));
    for (const e of journal.entries) for (const f of readdirSync(from)) if (f.startsWith(`${e.tag}.`)) cpSync(join(from, f), join(to, f));
  }
  return Object.create(schema, { migrationsDir: { value: scratch } }) as ModuleSchema;
}
