// `npm run db:generate [module...]`: drizzle-kit writes each module's migrations for both
// engines into the schema's migrations folder (migrations/<module>/<dialect>/), from the one
// table definition in the module's db/schema.ts. Run it after changing a schema; commit the result.
// Test fixture modules (test/fixtures/modules/*) are covered too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleSchema } from '../src/platform/data/schema-kit.ts';

const root = resolve(import.meta.dirname, '..');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// --out=<dir> writes under another root (the schema-parity test uses a scratch copy).
const outRoot = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? root;

const moduleSchemaFiles = ['src/modules', 'test/fixtures/modules']
  .map((d) => join(root, d))
  .filter(existsSync)
  .flatMap((d) => readdirSync(d).map((m) => join(d, m, 'db/schema.ts')))
  .filter(existsSync);
// The bus bench's two modules define their schemas beside the bench (SQLite only).
const schemaFiles = [...moduleSchemaFiles, join(root, 'scripts/bench/bus-modules.ts')];

const schemas: { exportName: string; file: string; schema: ModuleSchema }[] = [];
for (const file of schemaFiles) {
  const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  for (const [exportName, v] of Object.entries(exports)) {
    const schema = v as ModuleSchema;
    if (typeof schema?.tables === 'function' && (wanted.length === 0 || wanted.includes(schema.module))) schemas.push({ exportName, file, schema });
  }
}

for (const { exportName, file, schema } of schemas) {
  const module = schema.module;
  // A schema whose migrations exist for one engine only (the bench's, SQLite) stays that way.
  const existing = (['sqlite', 'pg'] as const).filter((d) => existsSync(join(schema.migrationsDir, d)));
  const dialects = existing.length > 0 ? existing : (['sqlite', 'pg'] as const);
  for (const dialect of dialects) {
    const tmpDir = join(outRoot, '.tmp/drizzle');
    mkdirSync(tmpDir, { recursive: true });
    const entry = join(tmpDir, `${module}.${dialect}.ts`);
    const names = Object.keys(schema.tables(dialect));
    writeFileSync(
      entry,
      `import { ${exportName} } from '${relative(tmpDir, file)}';\n` +
        `const t = ${exportName}.tables('${dialect}');\n` +
        names.map((n) => `export const ${n} = t.${n};`).join('\n') +
        '\n',
    );
    const out = join(outRoot, relative(root, schema.migrationsDir), dialect);
    execFileSync(
      join(root, 'node_modules/.bin/drizzle-kit'),
      // drizzle-kit reads earlier snapshots from a path it prefixes with './': give it a relative one.
      ['generate', `--dialect=${dialect === 'pg' ? 'postgresql' : 'sqlite'}`, `--schema=${relative(root, entry)}`, `--out=${relative(root, out)}`],
      { stdio: 'inherit', cwd: root },
    );
    if (dialect === 'pg') makeSchemaCreationIdempotent(out);
  }
}

// The migrator keeps its bookkeeping table inside the module's schema, so it creates the schema
// before the first migration runs; a generated CREATE SCHEMA must tolerate that.
function makeSchemaCreationIdempotent(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql'))) {
    const path = join(dir, f);
    const sql = readFileSync(path, 'utf8');
    const fixed = sql.replace(/CREATE SCHEMA "([^"]+)";/g, 'CREATE SCHEMA IF NOT EXISTS "$1";');
    if (fixed !== sql) writeFileSync(path, fixed);
  }
}
