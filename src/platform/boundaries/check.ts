// The whole boundary check over one repository root: dependency-cruiser's rules
// (.dependency-cruiser.js) plus the manifest checks (module-rules.ts), compared with the
// known-violations baseline. scripts/check-boundaries.ts is its command line; tests run it on
// temporary copies. Module folders are found and loaded by path, so the platform names no module.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IViolation } from 'dependency-cruiser';
import { cruiseRepository, loadRules } from './cruise.ts';
import { checkModules, crossModuleImports, foreignErrorCodeStrings, MODULE_RULES, type Finding, type ModuleInfo } from './module-rules.ts';
import { BASELINE_FILE, diffBaseline, serializeBaseline } from './baseline.ts';
import { formatFinding } from './report.ts';
import { kernelErrors } from '../errors/domain-error.ts';

export interface CheckOutcome {
  exitCode: 0 | 1;
  /** What the command prints. */
  report: string;
  findings: Finding[];
}

export async function runBoundaryCheck(root: string, options: { writeBaseline?: boolean } = {}): Promise<CheckOutcome> {
  const rules = await loadRules(root);
  const result = await cruiseRepository(root);
  const modules = await loadModuleInfos(root);
  const findings: Finding[] = [
    ...result.summary.violations.filter((v) => v.rule.severity === 'error' || v.rule.severity === 'warn'),
    ...checkModules(modules, crossModuleImports(result, (file) => readFileSync(join(root, file), 'utf8'))),
    ...foreignErrorCodeStrings(modules, moduleSources(root, result.modules.map((m) => m.source))),
  ];
  const baselinePath = join(root, BASELINE_FILE);

  if (options.writeBaseline) {
    writeFileSync(baselinePath, serializeBaseline(findings));
    const report = `${BASELINE_FILE}: ${findings.length} known violation(s) recorded. Commit it; the check now fails only on new ones.`;
    return { exitCode: 0, report, findings };
  }

  const baseline = existsSync(baselinePath) ? (JSON.parse(readFileSync(baselinePath, 'utf8')) as IViolation[]) : [];
  const { fresh, known, fixed } = diffBaseline(findings, baseline);
  const comments = new Map<string, string>([
    ...(rules.forbidden ?? []).map((r) => [r.name ?? '', r.comment ?? ''] as [string, string]),
    ...Object.entries(MODULE_RULES).map(([name, r]) => [name, r.comment] as [string, string]),
  ]);
  const lines = fresh.map((f) => `${formatFinding(f, comments.get(f.rule.name))}\n`);
  const cruised = `${result.summary.totalCruised} files, ${result.summary.totalDependenciesCruised} imports, ${modules.length} modules`;
  if (known.length) lines.push(`${known.length} known violation(s) in ${BASELINE_FILE} left alone.`);
  if (fixed.length) lines.push(`${fixed.length} violation(s) in ${BASELINE_FILE} are fixed: run npm run check:boundaries:baseline to drop them.`);
  if (fresh.length) lines.push(`✖ ${fresh.length} boundary violation(s) (${cruised}). See docs/boundaries.md.`);
  else lines.push(`✔ module boundaries hold (${cruised}).`);
  return { exitCode: fresh.length ? 1 : 0, report: lines.join('\n'), findings };
}

/** Each folder under src/modules/, with its manifest and the event definitions its index.ts exports. */
export async function loadModuleInfos(root: string): Promise<ModuleInfo[]> {
  const dir = join(root, 'src/modules');
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
        const errorCodes = ownErrorCodes(manifest);
        return { folder, manifest, eventExports, errorCodes };
      } catch (err) {
        return { folder, eventExports: new Map(), loadError: `src/modules/${folder}/index.ts failed to load: ${(err as Error).message}` };
      }
    }),
  );
}

/** The module's source files the cruise found, read once. */
function moduleSources(root: string, files: readonly string[]): Map<string, string> {
  return new Map(files.filter((f) => f.startsWith('src/modules/') && f.endsWith('.ts')).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

/** Error codes a manifest's contract declares beyond the kernel's (which every module shares). */
function ownErrorCodes(manifest: unknown): string[] {
  const contract = (manifest as { contract?: { errors?: { code?: unknown }[] } } | undefined)?.contract;
  const kernel = new Set(kernelErrors.map((e) => e.code));
  return (contract?.errors ?? []).map((e) => e.code).filter((c): c is string => typeof c === 'string' && !kernel.has(c));
}

function isManifest(v: unknown): v is NonNullable<ModuleInfo['manifest']> {
  const m = v as Record<string, unknown> | null;
  return !!m && typeof m.name === 'string' && Array.isArray(m.dependsOn) && Array.isArray(m.publishes) && Array.isArray(m.subscribes);
}

function isEvent(v: unknown): v is { key: string } {
  const e = v as Record<string, unknown> | null;
  return !!e && typeof e.key === 'string' && typeof e.type === 'string' && typeof e.version === 'number';
}
