// `npm run docs:architecture`: writes docs/architecture.md from the manifests (src/manifests.ts)
// and the import graph — module diagram, contracts and the event catalog with JSON Schemas.
// `npm run docs:architecture -- --check` writes nothing and exits 1 when the committed file is
// stale (CI runs it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { manifests } from '../src/manifests.ts';
import { renderArchitecture } from '../src/platform/boundaries/architecture.ts';
import { cruiseRepository } from '../src/platform/boundaries/cruise.ts';
import { crossModuleImports } from '../src/platform/boundaries/module-rules.ts';

const root = resolve(import.meta.dirname, '..');
const target = join(root, 'docs/architecture.md');
const result = await cruiseRepository(root);
const imports = crossModuleImports(result, (file) => readFileSync(join(root, file), 'utf8'));
const markdown = renderArchitecture({ manifests, imports });

if (process.argv.includes('--check')) {
  const committed = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (committed !== markdown) {
    console.error('✖ docs/architecture.md is stale: the manifests or the imports between modules changed.');
    console.error('  Run `npm run docs:architecture` and commit docs/architecture.md.');
    process.exit(1);
  }
  console.log('✔ docs/architecture.md matches the code.');
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, markdown);
  console.log(`wrote docs/architecture.md (${manifests.length} modules)`);
}
