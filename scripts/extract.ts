// `npm run extract -- <module> [--finish|--undo]` (flow 2). See scripts/extract-core.ts for the
// steps and docs/extraction.md for the walkthrough. Paths: --topology (TOPOLOGY_FILE),
// --proxy-config (PROXY_CONFIG), --deploy-dir (EXTRACT_DEPLOY_DIR), --root (the repository).
import { resolve } from 'node:path';
import { manifests } from '../src/manifests.ts';
import { runBoundaryCheck } from '../src/platform/boundaries/check.ts';
import { formatFinding } from '../src/platform/boundaries/report.ts';
import { resolvePaths, runExtract, type ExtractAction } from './extract-core.ts';
import { bundleService } from './extract-bundle.ts';

const args = process.argv.slice(2);
const flags: Record<string, string | undefined> = {};
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--finish' || a === '--undo') flags[a.slice(2)] = 'true';
  else if (a.startsWith('--')) {
    const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
    flags[k] = v ?? args[++i];
  } else positional.push(a);
}
const module = positional[0];
if (!module || positional.length > 1 || (flags.finish && flags.undo)) {
  console.error('usage: npm run extract -- <module> [--finish | --undo] [--topology <file>] [--proxy-config <file>] [--deploy-dir <dir>]');
  process.exit(64);
}
const action: ExtractAction = flags.finish ? 'finish' : flags.undo ? 'undo' : 'extract';
const root = resolve(flags.root ?? resolve(import.meta.dirname, '..'));

console.log(`extract ${module}${action === 'extract' ? '' : ` --${action}`}`);
const result = await runExtract({
  module,
  action,
  root,
  ...resolvePaths(root, flags, process.env),
  manifests,
  async boundaryFindings(name) {
    console.log('  checking boundaries (npm run check:boundaries) …');
    const outcome = await runBoundaryCheck(root);
    const mine = outcome.findings.filter((f) => {
      const paths = [f.from, f.to, ...(f.cycle ?? []).map((c) => c.name)];
      return paths.some((p) => p === name || p?.startsWith(`src/modules/${name}/`));
    });
    return mine.map((f) => formatFinding(f, undefined).replace(/\n\s*/g, ' · '));
  },
  async bundle(name, outDir) {
    return (await bundleService({ root, module: name, outDir })).files;
  },
});
process.exitCode = result.exitCode;
