// `npm run db:generate [module...]`: drizzle-kit writes each module's migrations for both
// engines into migrations/<module>/<dialect>/, from the one table definition in the module's
// db/schema.ts. Run it after changing a schema and commit what it writes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleSchema } from '../src/platform/data/schema-kit.ts';

const root = resolve(import.meta.dirname, '..');
const modulesDir = join(root, 'src/modules');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// --out=<dir> writes under another root (the schema-parity test uses a scratch copy).
const outRoot = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? root;
const modules = (wanted.length ? wanted : readdirSync(modulesDir)).filter((m) => existsSync(join(modulesDir, m, 'db/schema.ts')));

for (const module of modules) {
  const schemaFile = join(modulesDir, module, 'db/schema.ts');
  const exports = (await import(pathToFileURL(schemaFile).href)) as Record<string, unknown>;
  const [exportName, schema] = Object.entries(exports).find(([, v]) => typeof (v as ModuleSchema)?.tables === 'function') as [string, ModuleSchema];
  for (const dialect of ['sqlite', 'pg'] as const) {
    const tmpDir = join(outRoot === root ? root : outRoot, '.tmp/drizzle');
    mkdirSync(tmpDir, { recursive: true });
    const entry = join(tmpDir, `${module}.${dialect}.ts`);
    const names = Object.keys(schema.tables(dialect));
    writeFileSync(
      entry,
      `import { ${exportName} } from '${relative(tmpDir, schemaFile)}';\n` +
        `const t = ${exportName}.tables('${dialect}');\n` +
        names.map((n) => `export const ${n} = t.${n};`).join('\n') +
        '\n',
    );
    const out = join(outRoot, 'migrations', module, dialect);
    execFileSync(
      join(root, 'node_modules/.bin/drizzle-kit'),
      ['generate', `--dialect=${dialect === 'pg' ? 'postgresql' : 'sqlite'}`, `--schema=${entry}`, `--out=${out}`],
      { stdio: 'inherit', cwd: root },
    );
    if (dialect === 'pg') makeSchemaCreationIdempotent(out);
  }
}

// The migrator keeps its bookkeeping table inside the module's schema, so it creates the schema
// before the first migration runs; the generated CREATE SCHEMA must tolerate that.
function makeSchemaCreationIdempotent(dir: string): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
    const path = join(dir, file);
    const sql = readFileSync(path, 'utf8');
    const fixed = sql.replace(/CREATE SCHEMA "([^"]+)";/g, 'CREATE SCHEMA IF NOT EXISTS "$1";');
    if (fixed !== sql) writeFileSync(path, fixed);
  }
}
