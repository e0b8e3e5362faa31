// One table definition feeds both engines; these tests fail when the committed migrations no
// longer match it, or when the two engines' snapshots disagree on tables or columns.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test/support/processes.ts';

// System modules, and the fixture modules the bus tests use, with where their migrations live.
const modules = [
  ...readdirSync(join(repoRoot, 'src/modules')).map((m) => ({ module: m, src: `src/modules/${m}`, migrations: `migrations/${m}` })),
  ...readdirSync(join(repoRoot, 'test/fixtures/modules')).map((m) => ({ module: m, src: `test/fixtures/modules/${m}`, migrations: `test/fixtures/migrations/${m}` })),
].filter((m) => existsSync(join(repoRoot, m.src, 'db/schema.ts')));

function latestSnapshot(dir: string) {
  const metas = readdirSync(join(dir, 'meta')).filter((f) => f.endsWith('_snapshot.json')).sort();
  return JSON.parse(readFileSync(join(dir, 'meta', metas[metas.length - 1]!), 'utf8')) as {
    tables: Record<string, { name: string; columns: Record<string, { name: string; notNull: boolean; primaryKey: boolean }> }>;
  };
}

describe.each(modules)('schema of $module', ({ module, migrations }) => {
  it('has committed migrations for both engines that match its table definition', () => {
    const copy = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(join(repoRoot, migrations), join(copy, migrations), { recursive: true });
    const files = () => readdirSync(join(copy, migrations, 'pg')).length + readdirSync(join(copy, migrations, 'sqlite')).length;
    const before = files();
    // Generating into the copy must find nothing new to write.
    execFileSync(process.execPath, [join(repoRoot, 'scripts/generate-migrations.ts'), module, `--out=${copy}`], { cwd: repoRoot, stdio: 'pipe' });
    expect(files(), `run npm run db:generate ${module} and commit the result`).toBe(before);
  });

  it('has the same tables, columns, nullability and keys on SQLite and Postgres', () => {
    const shape = (dialect: string) => {
      const snap = latestSnapshot(join(repoRoot, migrations, dialect));
      return Object.fromEntries(
        Object.values(snap.tables).map((t) => [
          t.name,
          Object.fromEntries(Object.values(t.columns).map((c) => [c.name, { notNull: c.notNull || c.primaryKey }])),
        ]),
      );
    };
    expect(shape('sqlite')).toEqual(shape('pg'));
  });
});
