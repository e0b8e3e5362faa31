// Flow 2, split a module: the steps behind `npm run extract -- <module> [--finish|--undo]`, as
// a function so tests run it against temporary copies of the topology, the proxy config and the
// deploy folder. Every step compares before it writes, so a second run changes nothing and says so.
//
//   extract   local → migrating: checks, deploy/<module>/ (env file, Dockerfile, Kubernetes
//             manifest, esbuild bundle), proxy routes at weight 0, topology says migrating
//   --finish  migrating → remote: the monolith stops running the module and calls the service;
//             the proxy sends the module's routes to the service (weight 100)
//   --undo    any → local: topology entry and proxy routes removed; the store never moved, so
//             nothing is lost (deploy/<module>/ is kept for the next attempt)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import type { ModuleManifest } from '../src/platform/modules/manifest.ts';
import { emptyTopology, readTopologyFile, writeTopologyFile, type ModuleState, type TopologyFile } from '../src/platform/kernel/topology.ts';
import { addRoutes, finishRoutes, readRawConfig, removeRoutes, writeConfig, type ProxyConfigInput } from '../proxy/src/index.ts';
import { dockerfile, envFile, kubernetesManifest } from './extract-templates.ts';

export type ExtractAction = 'extract' | 'finish' | 'undo';

export interface ExtractOptions {
  module: string;
  action: ExtractAction;
  root: string;
  topologyFile: string;
  proxyConfig: string;
  deployDir: string;
  manifests: readonly ModuleManifest[];
  /** Boundary findings that involve the module (empty = clean). */
  boundaryFindings(module: string): Promise<string[]>;
  /** Builds the service bundle; answers the files it would write (path → content). */
  bundle(module: string, outDir: string): Promise<Map<string, Uint8Array | string>>;
  log?: (line: string) => void;
}

export interface ExtractResult {
  exitCode: number;
  changes: string[];
}

export class ExtractRefused extends Error {
  override name = 'ExtractRefused';
}

export const SERVICE_PORT_BASE = 3100;

export async function runExtract(o: ExtractOptions): Promise<ExtractResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const changes: string[] = [];
  const changed = (line: string) => {
    changes.push(line);
    log(`  ✎ ${line}`);
  };
  const rel = (p: string) => relative(o.root, p) || p;
  try {
    const manifest = o.manifests.find((m) => m.name === o.module);
    if (!manifest) throw new ExtractRefused(`Unknown module "${o.module}". Modules: ${o.manifests.map((m) => m.name).join(', ') || '(none)'}`);
    const topology = existsSync(o.topologyFile) ? readTopologyFile(o.topologyFile) : emptyTopology();
    const before: ModuleState = topology.modules[o.module]?.state ?? 'local';

    if (o.action === 'undo') {
      const next = structuredClone(topology);
      delete next.modules[o.module];
      if (JSON.stringify(next) !== JSON.stringify(topology)) {
        writeTopologyFile(o.topologyFile, next);
        changed(`${rel(o.topologyFile)}: ${o.module} ${before} → local (the monolith runs it again, on the store it always had)`);
      }
      editProxy(o.proxyConfig, (c) => removeRoutes(c, o.module), `${rel(o.proxyConfig)}: removed the routes and pool of ${o.module}`, changed);
      return done(o, changes, log, [`${o.module} is local.${existsSync(join(o.deployDir, o.module)) ? ` ${rel(join(o.deployDir, o.module))}/ is kept; delete it if you will not extract again.` : ''}`]);
    }

    if (o.action === 'finish') {
      if (before === 'local') throw new ExtractRefused(`${o.module} is not extracted yet: run npm run extract -- ${o.module} first, shift traffic, then --finish`);
      if (before === 'migrating') {
        const next = structuredClone(topology);
        next.modules[o.module]!.state = 'remote';
        writeTopologyFile(o.topologyFile, next);
        changed(`${rel(o.topologyFile)}: ${o.module} migrating → remote (restart the monolith: it stops running ${o.module} and calls its service)`);
      }
      editProxy(
        o.proxyConfig,
        (c) => finishRoutes(c, o.module),
        `${rel(o.proxyConfig)}: every route of ${o.module} goes to its service only (no old side: no fallback, weight or rollback sends it to the monolith; canary and shadow settings cleared)`,
        changed,
      );
      return done(o, changes, log, [`${o.module} is remote. Undo at any time: npm run extract -- ${o.module} --undo`]);
    }

    // extract: checks first, nothing written if one fails.
    const problems = [...schemaProblems(manifest, o.manifests), ...(await o.boundaryFindings(o.module))];
    if (problems.length) throw new ExtractRefused(`${o.module} cannot leave the monolith yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

    const next: TopologyFile = structuredClone(topology);
    const port = servicePort(next, o.manifests, o.module);
    const entry = next.modules[o.module] ?? { state: 'local' as const, urls: [] };
    const urls = entry.urls.length ? entry.urls : [`http://127.0.0.1:${port}`];
    if (!next.monolith.urls.length) next.monolith.urls = ['http://127.0.0.1:3000'];
    next.modules[o.module] = { state: before === 'remote' ? 'remote' : 'migrating', urls };
    if (JSON.stringify(next) !== JSON.stringify(topology)) {
      writeTopologyFile(o.topologyFile, next);
      changed(`${rel(o.topologyFile)}: ${o.module} ${before} → ${next.modules[o.module]!.state} at ${urls.join(', ')}`);
    }

    const dir = join(o.deployDir, o.module);
    const files = new Map<string, string | Uint8Array>([
      [join(dir, `${o.module}.env`), envFile({ module: o.module, port, monolithUrls: next.monolith.urls })],
      [join(dir, 'Dockerfile'), dockerfile({ module: o.module, port, deployDir: relative(o.root, o.deployDir) || 'deploy' })],
      [join(dir, 'kubernetes.yaml'), kubernetesManifest({ module: o.module, port })],
    ]);
    for (const [path, content] of await o.bundle(o.module, join(dir, 'dist'))) files.set(path, content);
    for (const [path, content] of files) if (writeIfDifferent(path, content)) changed(`wrote ${rel(path)}`);

    if (!manifest.publicPaths.length) log(`  ${o.module} has no public routes: nothing to add to the proxy`);
    else {
      editProxy(
        o.proxyConfig,
        (c) => ((c.routes ?? []).some((r) => r.new === o.module) && c.pools[o.module] ? c : addRoutes(c, { pool: o.module, instances: urls, prefixes: [...manifest.publicPaths] })),
        `${rel(o.proxyConfig)}: routes ${manifest.publicPaths.join(', ')} → pool ${o.module} (${urls.join(', ')}) at weight 0`,
        changed,
      );
    }

    const now = next.modules[o.module]!.state;
    return done(o, changes, log, [
      now === 'remote'
        ? `${o.module} is remote already (finished): only its service runs it. Undo: npm run extract -- ${o.module} --undo`
        : `${o.module} is migrating: the monolith still runs it, and so can its service, on the same store.`,
      '',
      'Next:',
      `  BUS=bullmq npm start                     restart the monolith on BullMQ: it and the service now share ${o.module}'s outbox`,
      `  npm run service -- ${o.module}            start it (env: ${rel(join(dir, `${o.module}.env`))}; PORT per instance)`,
      `  docker build -f ${rel(join(dir, 'Dockerfile'))} .     or: kubectl apply -f ${rel(join(dir, 'kubernetes.yaml'))}`,
      `  npm run proxy                            then raise the weight of route ${o.module} in ${rel(o.proxyConfig)} (or the admin API)`,
      `  npm run extract -- ${o.module} --finish     when the service takes all its traffic`,
      `  npm run extract -- ${o.module} --undo       to bring it back, from any state`,
    ]);
  } catch (err) {
    if (err instanceof ExtractRefused || (err as Error).name === 'TopologyError' || (err as Error).name === 'ConfigError') {
      log(`✖ ${(err as Error).message}`);
      return { exitCode: 1, changes };
    }
    throw err;
  }
}

function done(o: ExtractOptions, changes: string[], log: (l: string) => void, tail: string[]): ExtractResult {
  if (!changes.length) log(`  Nothing changed: ${o.module} was already in that state.`);
  for (const line of tail) log(line);
  return { exitCode: 0, changes };
}

/** Every operation and event the module exchanges carries a zod schema, so it can cross a network. */
export function schemaProblems(manifest: ModuleManifest, all: readonly ModuleManifest[]): string[] {
  const problems: string[] = [];
  const isSchema = (s: unknown): s is z.ZodType => !!s && typeof (s as z.ZodType).safeParse === 'function';
  const contracts = [manifest.contract, ...manifest.dependsOn.map((d) => all.find((m) => m.name === d)?.contract)];
  for (const dep of manifest.dependsOn) if (!all.some((m) => m.name === dep)) problems.push(`depends on unknown module ${dep}`);
  for (const c of contracts) {
    if (!c) continue;
    for (const [op, spec] of Object.entries(c.operations)) {
      if (!isSchema(spec.input)) problems.push(`${c.name}.${op} has no input schema`);
      if (!isSchema(spec.output)) problems.push(`${c.name}.${op} has no output schema`);
      if (typeof spec.idempotent !== 'boolean') problems.push(`${c.name}.${op} does not say whether it is idempotent`);
    }
  }
  for (const e of [...manifest.publishes, ...manifest.subscribes]) if (!isSchema(e.schema)) problems.push(`event ${e.key} has no schema`);
  return problems;
}

/** The port the module's service listens on: kept if the topology already names one, else 3100 + its place in the system. */
function servicePort(topology: TopologyFile, manifests: readonly ModuleManifest[], module: string): number {
  const known = topology.modules[module]?.urls[0];
  if (known) {
    const port = Number(new URL(/^[a-z]+:\/\//.test(known) ? known : `http://${known}`).port);
    if (port) return port;
  }
  return SERVICE_PORT_BASE + 1 + Math.max(0, manifests.findIndex((m) => m.name === module));
}

function editProxy(path: string, edit: (c: ProxyConfigInput) => ProxyConfigInput, what: string, changed: (l: string) => void): void {
  if (!existsSync(path)) throw new ExtractRefused(`The proxy config ${path} does not exist (set PROXY_CONFIG or --proxy-config)`);
  const before = readRawConfig(path);
  const after = edit(before);
  if (JSON.stringify(after) === JSON.stringify(before)) return;
  writeConfig(path, after);
  changed(what);
}

function writeIfDifferent(path: string, content: string | Uint8Array): boolean {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  if (existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return true;
}

export function resolvePaths(root: string, flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv) {
  return {
    topologyFile: resolve(root, flags.topology ?? env.TOPOLOGY_FILE ?? 'topology.json'),
    proxyConfig: resolve(root, flags['proxy-config'] ?? env.PROXY_CONFIG ?? 'proxy/config.json'),
    deployDir: resolve(root, flags['deploy-dir'] ?? env.EXTRACT_DEPLOY_DIR ?? 'deploy'),
  };
}
