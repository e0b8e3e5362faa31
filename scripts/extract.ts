// `npm run extract -- <module> [--finish|--undo]` (flow 2). See scripts/extract-core.ts for the
// steps and docs/extraction.md for the walkthrough. Paths: --topology (TOPOLOGY_FILE),
// --proxy-config (PROXY_CONFIG), --deploy-dir (EXTRACT_DEPLOY_DIR), --root (the repository).
// An unknown or misspelt flag stops it with the usage before anything is read: a typo of --undo
// must not extract.
import { resolve } from 'node:path';
import { manifests } from '../src/manifests.ts';
import { runBoundaryCheck } from '../src/platform/boundaries/check.ts';
import { formatFinding } from '../src/platform/boundaries/report.ts';
import { resolvePaths, runExtract, type ExtractAction } from './extract-core.ts';
import { bundleDeployable } from './extract-bundle.ts';

const USAGE = 'usage: npm run extract -- <module> [--finish | --undo] [--topology <file>] [--proxy-config <file>] [--deploy-dir <dir>] [--root <dir>]\n       npm run extract -- --refresh   (rewrite the deploy folder from the topology; no module changes state)';
const SWITCHES = new Set(['finish', 'undo', 'refresh']);
const VALUED = new Set(['topology', 'proxy-config', 'deploy-dir', 'root']);

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(64);
}

const flags: Record<string, string | undefined> = {};
const positional: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (!a.startsWith('-')) {
    positional.push(a);
    continue;
  }
  const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
  if (SWITCHES.has(name) && a.startsWith('--')) {
    if (inline !== undefined) usage(`--${name} takes no value`);
    flags[name] = 'true';
  } else if (VALUED.has(name) && a.startsWith('--')) {
    const value = inline ?? args[++i];
    if (!value || value.startsWith('--')) usage(`--${name} needs a value`);
    flags[name] = value;
  } else usage(`unknown option ${a}`);
}
const module = positional[0] ?? '';
if (flags.refresh ? positional.length || flags.finish || flags.undo : !module) usage(flags.refresh ? '--refresh takes no module and no other action' : 'which module?');
if (positional.length > 1) usage(`one module at a time (got ${positional.join(', ')})`);
if (flags.finish && flags.undo) usage('--finish and --undo are opposite directions: pick one');
const action: ExtractAction = flags.refresh ? 'refresh' : flags.finish ? 'finish' : flags.undo ? 'undo' : 'extract';
const root = resolve(flags.root ?? resolve(import.meta.dirname, '..'));

console.log(`extract ${[module, action === 'extract' ? '' : `--${action}`].filter(Boolean).join(' ')}`);
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
    return (await bundleDeployable({ root, kind: 'service', module: name, outDir: resolve(outDir, '..') })).files;
  },
});
process.exitCode = result.exitCode;
