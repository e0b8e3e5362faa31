// Runs dependency-cruiser over the repository with the rules in .dependency-cruiser.js and returns
// the import graph and the rule violations. Used by the boundary check and the architecture docs
// (scripts/check-boundaries.ts, scripts/architecture.ts); never imported at runtime.
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';

/** What the check cruises: the shared lib, the app, the proxy and the scripts (test/ is reached through them). */
export const CRUISED_ROOTS = ['lib', 'src', 'proxy', 'scripts'];

export async function loadRules(root: string): Promise<IConfiguration> {
  const config = (await import(pathToFileURL(join(root, '.dependency-cruiser.js')).href)) as { default: IConfiguration };
  return config.default;
}

export async function cruiseRepository(root: string): Promise<ICruiseResult> {
  const config = await loadRules(root);
  const { tsConfig: _tsConfig, ...options } = config.options ?? {};
  // tsconfig.json declares no path aliases and every import names its .ts file, so the resolver
  // needs nothing from it (and parsing it would need the TypeScript 7 API, not published yet).
  // baseDir (not the working directory) roots the cruise, so a test can check a copy in-process.
  const roots = CRUISED_ROOTS.filter((r) => existsSync(join(root, r)));
  const result = await cruise(roots, {
    ...options,
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
    outputType: 'json',
  });
  return typeof result.output === 'string' ? (JSON.parse(result.output) as ICruiseResult) : result.output;
}
