// `npm run check:boundaries`: the module boundary rules (.dependency-cruiser.js, run by
// dependency-cruiser) plus the checks that read the manifests (declared dependsOn, cycles between
// modules; src/platform/boundaries/module-rules.ts). Fails on any violation not recorded in
// .dependency-cruiser-known-violations.json, naming the importing file, the imported file, the
// rule and what to do instead.
// `npm run check:boundaries:baseline` (--baseline) records today's violations as the baseline.
// See docs/boundaries.md.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IViolation } from 'dependency-cruiser';
import { cruiseRepository, loadRules } from '../src/platform/boundaries/cruise.ts';
import { checkModules, crossModuleImports, MODULE_RULES, type Finding, type ModuleInfo } from '../src/platform/boundaries/module-rules.ts';
import { BASELINE_FILE, diffBaseline, serializeBaseline } from '../src/platform/boundaries/baseline.ts';
import { formatFinding } from '../src/platform/boundaries/report.ts';

const root = resolve(import.meta.dirname, '..');
const writeBaseline = process.argv.includes('--baseline');

const rules = await loadRules(root);
const result = await cruiseRepository(root);
const modules = await loadModuleInfos(root);
const findings: Finding[] = [
  ...result.summary.violations.filter((v) => v.rule.severity === 'error' || v.rule.severity === 'warn'),
  ...checkModules(modules, crossModuleImports(result, (file) => readFileSync(join(root, file), 'utf8'))),
];
const baselinePath = join(root, BASELINE_FILE);

if (writeBaseline) {
  writeFileSync(baselinePath, serializeBaseline(findings));
  console.log(`${BASELINE_FILE}: ${findings.length} known violation(s) recorded. Commit it; the check now fails only on new ones.`);
  process.exit(0);
}

const baseline = existsSync(baselinePath) ? (JSON.parse(readFileSync(baselinePath, 'utf8')) as IViolation[]) : [];
const { fresh, known, fixed } = diffBaseline(findings, baseline);
const comments = new Map<string, string>([
  ...(rules.forbidden ?? []).map((r) => [r.name ?? '', r.comment ?? ''] as [string, string]),
  ...Object.entries(MODULE_RULES).map(([name, r]) => [name, r.comment] as [string, string]),
]);

for (const f of fresh) console.log(`${formatFinding(f, comments.get(f.rule.name))}\n`);
const cruised = `${result.summary.totalCruised} files, ${result.summary.totalDependenciesCruised} imports, ${modules.length} modules`;
if (known.length) console.log(`${known.length} known violation(s) in ${BASELINE_FILE} left alone.`);
if (fixed.length) {
  console.log(`${fixed.length} violation(s) in ${BASELINE_FILE} are fixed: run npm run check:boundaries:baseline to drop them.`);
}
if (fresh.length) {
  console.log(`✖ ${fresh.length} boundary violation(s) (${cruised}). See docs/boundaries.md.`);
  process.exit(1);
}
console.log(`✔ module boundaries hold (${cruised}).`);

/** Each folder under src/modules/, with its manifest and the event definitions its index.ts exports. */
async function loadModuleInfos(repo: string): Promise<ModuleInfo[]> {
  const dir = join(repo, 'src/modules');
  const folders = existsSync(dir) ? readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory()).sort() : [];
  return Promise.all(
    folders.map(async (folder): Promise<ModuleInfo> => {
      const index = join(dir, folder, 'index.ts');
      if (!existsSync(index)) return { folder, eventExports: new Map(), loadError: `src/modules/${folder}/index.ts does not exist` };
      try {
        const exports = (await import(pathToFileURL(index).href)) as Record<string, unknown>;
        const manifest = Object.values(exports).find(isManifest);
        const eventExports = new Map(
          Object.entries(exports).flatMap(([name, v]) => (isEvent(v) ? [[name, v.key] as [string, string]] : [])),
        );
        return { folder, manifest, eventExports };
      } catch (err) {
        return { folder, eventExports: new Map(), loadError: `src/modules/${folder}/index.ts failed to load: ${(err as Error).message}` };
      }
    }),
  );
}

function isManifest(v: unknown): v is NonNullable<ModuleInfo['manifest']> {
  const m = v as Record<string, unknown> | null;
  return !!m && typeof m.name === 'string' && Array.isArray(m.dependsOn) && Array.isArray(m.publishes) && Array.isArray(m.subscribes);
}

function isEvent(v: unknown): v is { key: string } {
  const e = v as Record<string, unknown> | null;
  return !!e && typeof e.key === 'string' && typeof e.type === 'string' && typeof e.version === 'number';
}
