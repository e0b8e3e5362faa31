// Flow 2, split a module: the steps behind `npm run extract -- <module> [--finish|--undo]`, as
// a function so tests run it against temporary copies of the topology, the proxy config and the
// deploy folder.
//
//   extract   local → migrating: checks, deploy/<module>/ (its env file, bundle, runtime
//             package.json), its routes at weight 0 in both route tables, topology says migrating
//   --finish  migrating → remote: the monolith stops running the module and calls the service;
//             both route tables send the module's routes to the service
//   --undo    any → local: topology entry and routes removed; the store never moved, so nothing
//             is lost (deploy/<module>/ is kept for the next attempt)
//   --refresh no module, no change of state: rewrites what follows from the topology (after an
//             upgrade, a new version's image tags)
//
// Each action also rewrites what follows from the topology under the deploy folder: every
// deployable's Dockerfile and Kubernetes resources, the shared configuration and the overlays
// and compose file that run the whole split system (scripts/deploy/).
//
// Careful by construction: every file is read and every check made before anything is written;
// then all changes are applied together and a failure puts every file back (extract-writes.ts).
// JSON files it edits keep their formatting (extract-json-edit.ts). The service's env file and
// the secrets are written once and never rewritten.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import type { ModuleManifest } from '../src/platform/modules/manifest.ts';
import { normalizeAddress, validateTopology, type ModuleState } from '../src/platform/kernel/topology.ts';
import { defaultServicePorts, INTERNAL_PORT_OFFSET, addressPort } from '../src/platform/kernel/service-ports.ts';
import { MONOLITH_PORTS, initialRouteTable, inClusterAddress, serviceName, type Project } from './deploy/split-system.ts';
import { addRoutes, finishRoutes, removeRoutes, validateConfig, type ProxyConfigInput } from '../proxy/src/index.ts';
import { parseConfigJson } from '../proxy/src/config-file.ts';
import { deployFiles } from './deploy/deploy-files.ts';
import { serviceEnvFile } from './deploy/service-env.ts';
import { parseEnv, secretsFile, secretKeys } from './deploy/system-settings.ts';
import { editJsonText, newJsonText } from '../lib/json-text/edit-json-text.ts';
import { applyAll, effective, type FileChange, type WriteIo } from './extract-writes.ts';

export type ExtractAction = 'extract' | 'finish' | 'undo' | 'refresh';

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
  /** The environment in force: address overrides, DATABASE_URL, REDIS_URL (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How files are written (a test makes one write fail). */
  io?: WriteIo;
  log?: (line: string) => void;
}

export interface ExtractResult {
  exitCode: number;
  changes: string[];
}

export class ExtractRefused extends Error {
  override name = 'ExtractRefused';
}

/** Folders of the deploy directory that are not a module's. */
const RESERVED = new Set(['monolith', 'proxy', 'system', 'kubernetes', 'observability']);

interface JsonFile<T> {
  path: string;
  text: string | undefined;
  raw: T;
}

type RawTopology = { $comment?: string; monolith?: { urls?: string[] }; modules?: Record<string, { state?: ModuleState; urls?: string[] }> };

export async function runExtract(o: ExtractOptions): Promise<ExtractResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const env = o.env ?? process.env;
  const rel = (p: string) => (relative(o.root, p).startsWith('..') ? p : relative(o.root, p) || p);
  try {
    const manifest = o.manifests.find((m) => m.name === o.module);
    if (!manifest && o.action !== 'refresh') throw new ExtractRefused(`Unknown module "${o.module}". Modules: ${o.manifests.map((m) => m.name).join(', ') || '(none)'}`);
    if (o.action !== 'refresh' && RESERVED.has(o.module)) throw new ExtractRefused(`A module named "${o.module}" would share its deploy folder with ${rel(join(o.deployDir, o.module))}/: rename the module`);

    // Read and check everything first.
    const topology = readJson<RawTopology>(o.topologyFile, { monolith: { urls: [] }, modules: {} });
    const current = validateTopology(topology.raw, o.topologyFile);
    if (!existsSync(o.proxyConfig)) throw new ExtractRefused(`The proxy config ${o.proxyConfig} does not exist (set PROXY_CONFIG or --proxy-config)`);
    const localRoutes = readJson<ProxyConfigInput>(o.proxyConfig);
    validateConfig(localRoutes.raw, o.proxyConfig);
    const deployedRoutes = readJson<ProxyConfigInput>(join(o.deployDir, 'system', 'proxy', 'config.json'), initialRouteTable() as ProxyConfigInput);
    validateConfig(deployedRoutes.raw, deployedRoutes.path);
    const project = readProject(o.root);
    const before: ModuleState = current.modules[o.module]?.state ?? 'local';
    const ports = defaultServicePorts(o.manifests, o.module);
    const deployed = { name: serviceName(o.module) };

    const nextTopology = structuredClone(topology.raw);
    nextTopology.modules ??= {};
    let nextLocal = localRoutes.raw;
    let nextDeployed = deployedRoutes.raw;
    const described = new Map<string, string>();
    const changes: FileChange[] = [];
    const notes: string[] = [];
    let tail: string[];

    if (o.action === 'refresh') {
      tail = ['The deploy folder follows the topology.'];
    } else if (!manifest) {
      throw new ExtractRefused(`Unknown module "${o.module}"`);
    } else if (o.action === 'undo') {
      delete nextTopology.modules[o.module];
      nextLocal = removeRoutes(nextLocal, o.module);
      nextDeployed = removeRoutes(nextDeployed, o.module);
      described.set(o.topologyFile, `${rel(o.topologyFile)}: ${o.module} ${before} → local (the monolith runs it again, on the store it always had)`);
      described.set(o.proxyConfig, `${rel(o.proxyConfig)}: removed the routes and pool of ${o.module}`);
      described.set(deployedRoutes.path, `${rel(deployedRoutes.path)}: removed the routes and pool of ${o.module}`);
      tail = undoSteps(o, before, rel);
    } else if (o.action === 'finish') {
      if (before === 'local') throw new ExtractRefused(`${o.module} is not extracted yet: run npm run extract -- ${o.module} first, shift traffic, then --finish`);
      nextTopology.modules[o.module]!.state = 'remote';
      // The routes lose their old side: no fallback, weight or rollback sends this module's traffic
      // to a monolith that no longer runs it; canary and shadow settings go with it.
      nextLocal = finishRoutes(nextLocal, o.module);
      nextDeployed = finishRoutes(nextDeployed, o.module);
      described.set(o.topologyFile, `${rel(o.topologyFile)}: ${o.module} ${before} → remote (restart the monolith: it stops running ${o.module} and calls its service)`);
      described.set(o.proxyConfig, `${rel(o.proxyConfig)}: every route of ${o.module} goes to its service only (no old side, weight 100)`);
      described.set(deployedRoutes.path, `${rel(deployedRoutes.path)}: every route of ${o.module} goes to ${deployed.name} only (no old side, weight 100)`);
      tail = [`${o.module} is remote. Restart the monolith (BUS=bullmq npm start; kubectl rollout restart; docker compose up -d monolith). Undo at any time: npm run extract -- ${o.module} --undo`];
    } else {
      const problems = [...schemaProblems(manifest, o.manifests), ...(await o.boundaryFindings(o.module))];
      if (problems.length) throw new ExtractRefused(`${o.module} cannot leave the monolith yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

      const entry = nextTopology.modules[o.module];
      const urls = entry?.urls?.length ? entry.urls : [`http://127.0.0.1:${ports.internalPort}`];
      nextTopology.monolith ??= { urls: [] };
      if (!nextTopology.monolith.urls?.length) nextTopology.monolith.urls = [`http://127.0.0.1:${MONOLITH_PORTS.internalPort}`];
      nextTopology.modules[o.module] = { ...entry, state: before === 'remote' ? 'remote' : 'migrating', urls };
      described.set(o.topologyFile, `${rel(o.topologyFile)}: ${o.module} ${before} → ${nextTopology.modules[o.module]!.state} at ${urls.join(', ')}`);

      // Addresses in force: the overrides win over the file, as they do for every deployable.
      const moduleUrls = splitList(env[`MODULE_${o.module.toUpperCase().replace(/-/g, '_')}_URLS`]) ?? urls.map(normalizeAddress);
      const monolithUrls = splitList(env.MONOLITH_URLS) ?? nextTopology.monolith.urls.map(normalizeAddress);
      const publicUrls = moduleUrls.map(publicAddress);
      if (!manifest.publicPaths.length) notes.push(`${o.module} has no public routes: nothing to add to the proxy`);
      else {
        const add = (c: ProxyConfigInput, instances: string[]) =>
          (c.routes ?? []).some((r) => r.new === o.module) && c.pools[o.module] ? c : addRoutes(c, { pool: o.module, instances, prefixes: [...manifest.publicPaths] });
        nextLocal = add(nextLocal, publicUrls);
        nextDeployed = add(nextDeployed, [inClusterAddress(deployed, ports.port)]);
        described.set(o.proxyConfig, `${rel(o.proxyConfig)}: routes ${manifest.publicPaths.join(', ')} → pool ${o.module} (${publicUrls.join(', ')}) at weight 0`);
        described.set(deployedRoutes.path, `${rel(deployedRoutes.path)}: routes ${manifest.publicPaths.join(', ')} → pool ${o.module} (${inClusterAddress(deployed, ports.port)}) at weight 0`);
      }

      const home = join(o.deployDir, o.module);
      const listen = addressPort(moduleUrls[0]!) ?? ports.internalPort;
      const envPath = join(home, `${o.module}.env`);
      const freshEnv = serviceEnvFile({
        module: o.module,
        port: listen > INTERNAL_PORT_OFFSET ? listen - INTERNAL_PORT_OFFSET : ports.port,
        internalPort: listen,
        monolithUrls,
        ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
        ...(env.PG_ROLE_PREFIX ? { rolePrefix: env.PG_ROLE_PREFIX } : {}),
        redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
        dataDir: env.DATA_DIR || './data',
        topologyFile: relative(o.root, o.topologyFile) === 'topology.json' ? './topology.json' : o.topologyFile,
      });
      if (!existsSync(envPath)) changes.push({ path: envPath, content: freshEnv });
      else notes.push(...envDifferences(rel(envPath), readFileSync(envPath, 'utf8'), freshEnv));

      const bundle = await o.bundle(o.module, join(home, 'dist'));
      for (const [path, content] of bundle) changes.push({ path, content });
      // A new bundle's chunks have new names: the old ones go, so the folder holds one build.
      for (const old of filesUnder(join(home, 'dist'))) if (!bundle.has(old)) changes.push({ path: old, content: null });
      tail = extractSteps(o, nextTopology.modules[o.module]!.state!, rel, envPath);
    }

    // What follows from the new topology: every deployable's files, the shared configuration, the overlays.
    const next = validateTopology(nextTopology, o.topologyFile);
    validateConfig(nextLocal, o.proxyConfig);
    validateConfig(nextDeployed, deployedRoutes.path);
    const { system, files } = deployFiles({ root: o.root, deployDir: o.deployDir, topology: next, manifests: o.manifests, project });
    for (const [path, content] of files) changes.push({ path, content });
    const secretsPath = join(o.deployDir, 'system', 'secrets.env');
    if (!existsSync(secretsPath)) changes.push({ path: secretsPath, content: secretsFile(system), mode: 0o600 });
    else notes.push(...missingSecrets(rel(secretsPath), readFileSync(secretsPath, 'utf8'), secretKeys(system).map((s) => s.key)));
    changes.unshift(
      { path: o.topologyFile, content: jsonText(topology, nextTopology) },
      { path: o.proxyConfig, content: jsonText(localRoutes, nextLocal) },
      { path: deployedRoutes.path, content: jsonText(deployedRoutes, nextDeployed) },
    );

    const toApply = effective(changes);
    applyAll(toApply, o.io);
    // A bundle is one line (its folder and how many files changed), not one per chunk.
    const dist = o.action === 'extract' ? join(o.deployDir, o.module, 'dist') : undefined;
    const bundled = dist ? toApply.filter((c) => c.path.startsWith(`${dist}/`)) : [];
    const lines = toApply.filter((c) => !bundled.includes(c)).map((c) => described.get(c.path) ?? `${c.content === null ? 'removed' : 'wrote'} ${rel(c.path)}`);
    if (bundled.length) lines.push(`bundled ${rel(dist!)}/ (${bundled.length} file${bundled.length > 1 ? 's' : ''} changed)`);
    for (const line of lines) log(`  ✎ ${line}`);
    for (const note of notes) log(`  ! ${note}`);
    if (!lines.length) log(o.action === 'refresh' ? '  Nothing changed.' : `  Nothing changed: ${o.module} was already in that state.`);
    for (const line of tail) log(line);
    return { exitCode: 0, changes: lines };
  } catch (err) {
    if (err instanceof ExtractRefused || (err as Error).name === 'TopologyError' || (err as Error).name === 'ConfigError') {
      log(`✖ ${(err as Error).message}`);
      log('  Nothing was written.');
      return { exitCode: 1, changes: [] };
    }
    throw err;
  }
}

function extractSteps(o: ExtractOptions, state: ModuleState, rel: (p: string) => string, envPath: string): string[] {
  const m = o.module;
  const step = (command: string, why: string) => `  ${command.padEnd(40)} ${why}`;
  return [
    state === 'remote'
      ? `${m} is remote already (finished): only its service runs it. Undo: npm run extract -- ${m} --undo`
      : `${m} is migrating: the monolith still runs it, and so can its service, on the same store.`,
    '',
    'Next:',
    step('BUS=bullmq npm start', `restart the monolith on BullMQ: it and the service now share ${m}'s outbox`),
    step(`npm run service -- ${m}`, `start it where the topology says (env: ${rel(envPath)})`),
    step('npm run proxy', `then raise the weight of route ${m} in ${rel(o.proxyConfig)} (or the admin API)`),
    step(`npm run extract -- ${m} --finish`, 'when the service takes all its traffic'),
    step(`npm run extract -- ${m} --undo`, 'to bring it back, from any state'),
    step('containers and Kubernetes', `docs/deploy.md: ${rel(join(o.deployDir, 'compose.yaml'))}, kubectl apply -k ${rel(join(o.deployDir, 'kubernetes', 'postgres'))}`),
  ];
}

function undoSteps(o: ExtractOptions, before: ModuleState, rel: (p: string) => string): string[] {
  const m = o.module;
  const name = serviceName(m);
  const home = join(o.deployDir, m);
  if (before === 'local') return [`${m} is local.`];
  return [
    `${m} is local.`,
    '',
    'Now:',
    ...(before === 'remote' ? [`  1. restart the monolith (BUS=bullmq npm start): it runs ${m} again, on the store that never moved`] : [`  1. the monolith runs ${m} already: nothing to restart`]),
    `  2. stop the ${m} service, wherever it runs:`,
    `       its processes (npm run service -- ${m}, node ${rel(join(home, 'dist', 'service.mjs'))})`,
    `       compose:    docker compose -f ${rel(join(o.deployDir, 'compose.yaml'))} up -d --remove-orphans`,
    `       Kubernetes: kubectl delete statefulset,deployment,service,poddisruptionbudget -l app.kubernetes.io/name=${name}`,
    `  ${rel(home)}/ is kept; delete it if you will not extract ${m} again.`,
  ];
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

/** The service's public listener behind an internal address: the same host, 1000 below (INTERNAL_PORT's default). */
function publicAddress(internal: string): string {
  const url = new URL(normalizeAddress(internal));
  if (url.port && Number(url.port) > INTERNAL_PORT_OFFSET) url.port = String(Number(url.port) - INTERNAL_PORT_OFFSET);
  return url.toString().replace(/\/+$/, '');
}

function splitList(value: string | undefined): string[] | undefined {
  const list = value?.split(',').map((s) => s.trim()).filter(Boolean).map(normalizeAddress);
  return list?.length ? list : undefined;
}

function readJson<T>(path: string, missing?: T): JsonFile<T> {
  if (!existsSync(path)) {
    if (missing === undefined) throw new ExtractRefused(`${path} does not exist`);
    return { path, text: undefined, raw: structuredClone(missing) };
  }
  const text = readFileSync(path, 'utf8');
  return { path, text, raw: parseConfigJson(text, path) as T };
}

function jsonText<T>(file: JsonFile<T>, next: unknown): string {
  return file.text === undefined ? newJsonText(next) : editJsonText(file.text, file.raw, next);
}

function readProject(root: string): Project {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Project;
  return { name: pkg.name, version: pkg.version };
}

/** Where an env file that is the user's differs from a fresh one: reported, never written. */
function envDifferences(path: string, yours: string, fresh: string): string[] {
  const a = parseEnv(yours);
  const b = parseEnv(fresh);
  const show = (key: string, v: string | undefined) => (v === undefined ? '(not set)' : /SECRET|PASSWORD/.test(key) ? '***' : v);
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  if (!keys.length) return [];
  return [`${path} is yours and was kept; extract would write it differently now:`, ...keys.map((k) => `    ${k}: yours ${show(k, a.get(k))}, now ${show(k, b.get(k))}`)];
}

function missingSecrets(path: string, text: string, keys: readonly string[]): string[] {
  const have = parseEnv(text);
  const missing = keys.filter((k) => !have.has(k));
  return missing.length ? [`${path} lacks ${missing.join(', ')}: add ${missing.length > 1 ? 'them' : 'it'} (see secrets.example.env beside it); it is never rewritten`] : [];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export function resolvePaths(root: string, flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv) {
  return {
    topologyFile: resolve(root, flags.topology ?? env.TOPOLOGY_FILE ?? 'topology.json'),
    proxyConfig: resolve(root, flags['proxy-config'] ?? env.PROXY_CONFIG ?? 'proxy/config.json'),
    deployDir: resolve(root, flags['deploy-dir'] ?? env.EXTRACT_DEPLOY_DIR ?? 'deploy'),
  };
}
