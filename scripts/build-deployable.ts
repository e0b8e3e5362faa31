// `node scripts/build-deployable.ts <monolith|proxy|module> <out>`: what an image's build stage
// runs — the deployable's bundle (scripts/extract-bundle.ts) with its migrations, its runtime
// package.json, and from the installed node_modules only the packages the bundle cannot hold.
// The runtime stage copies <out> and nothing else.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleDeployable, copyRuntimePackages, type DeployableKind } from './extract-bundle.ts';

const [name, out] = process.argv.slice(2);
if (!name || !out) {
  console.error('usage: node scripts/build-deployable.ts <monolith|proxy|module> <out-dir>');
  process.exit(64);
}
const root = resolve(import.meta.dirname, '..');
const kind: DeployableKind = name === 'monolith' || name === 'proxy' ? name : 'service';
if (kind === 'service' && !existsSync(resolve(root, 'src/modules', name, 'module.ts'))) {
  console.error(`Unknown module "${name}": no src/modules/${name}/module.ts`);
  process.exit(64);
}
const outDir = resolve(out);
const bundle = await bundleDeployable({ root, kind, outDir, ...(kind === 'service' ? { module: name } : {}) });
for (const [path, content] of bundle.files) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
copyRuntimePackages(root, outDir, bundle.runtimePackages);
const shipped = Object.entries(bundle.runtimePackages).map(([p, v]) => `${p}@${v}`);
console.log(`built ${name} in ${outDir}: ${bundle.files.size} files; packages outside the bundle: ${shipped.join(', ') || 'none'}`);
