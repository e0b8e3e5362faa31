// Service discovery, kept boring: one file (TOPOLOGY_FILE, default ./topology.json) says per
// module whether it runs in the monolith (`local`, the default for a module it does not name), in
// both the monolith and a service on the same store (`migrating`), or only in its service
// (`remote`), and where the instances live. MODULE_<NAME>_URLS and MONOLITH_URLS override the
// addresses per deployment; a Kubernetes service name (`http://orders:3000`, or just `orders:3000`)
// is as good an address as an IP, since the cluster's DNS does the rest.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config/env.ts';

export const moduleStates = ['local', 'migrating', 'remote'] as const;
export type ModuleState = (typeof moduleStates)[number];

const Address = z.string().min(1);
const topologySchema = z.strictObject({
  $comment: z.string().optional(),
  monolith: z.strictObject({ urls: z.array(Address).default([]) }).default({ urls: [] }),
  modules: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, 'module names are lower-case kebab'),
      z.strictObject({ state: z.enum(moduleStates).default('local'), urls: z.array(Address).default([]) }),
    )
    .default({}),
});

export type TopologyFile = z.output<typeof topologySchema>;

export interface Topology {
  readonly monolithUrls: readonly string[];
  state(module: string): ModuleState;
  /** Where a caller outside the module reaches its contract: the service's instances once it is remote, else the monolith. */
  addressesOf(module: string): readonly string[];
  /** Modules the monolith no longer runs. */
  readonly remote: readonly string[];
  /** Modules that run as a service (migrating or remote). */
  readonly split: readonly string[];
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export function emptyTopology(): TopologyFile {
  return { monolith: { urls: [] }, modules: {} };
}

/** Reads the file; a missing file is an empty topology (everything local), a bad one is named precisely. */
export function readTopologyFile(path: string): TopologyFile {
  if (!existsSync(path)) return emptyTopology();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TopologyError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return validateTopology(raw, path);
}

/** Checks a topology as parsed from JSON (a file, or an edit about to be written); names every bad field. */
export function validateTopology(raw: unknown, path: string): TopologyFile {
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) {
    throw new TopologyError(`${path}: invalid topology\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}

/** Atomic replace, so a deployable starting at the wrong moment reads the old file or the new one. */
export function writeTopologyFile(path: string, topology: TopologyFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(topology, null, 2)}\n`);
  renameSync(tmp, path);
}

/** `orders:3000` → `http://orders:3000`; trailing slashes dropped. */
export function normalizeAddress(address: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('only http and https');
  } catch (err) {
    throw new TopologyError(`"${address}" is not a usable address: ${(err as Error).message}`);
  }
  return withScheme.replace(/\/+$/, '');
}

function splitUrls(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map(normalizeAddress);
}

/** The file plus the environment's overrides. */
export function resolveTopology(file: TopologyFile, config: Pick<Config, 'moduleUrls' | 'MONOLITH_URLS'>): Topology {
  const monolithUrls = config.MONOLITH_URLS ? splitUrls(config.MONOLITH_URLS) : file.monolith.urls.map(normalizeAddress);
  const urls = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(file.modules)) urls.set(name, entry.urls.map(normalizeAddress));
  for (const [name, list] of Object.entries(config.moduleUrls)) urls.set(name, splitUrls(list));
  const state = (module: string): ModuleState => file.modules[module]?.state ?? 'local';
  return {
    monolithUrls,
    state,
    addressesOf: (module) => (state(module) === 'remote' ? (urls.get(module) ?? []) : monolithUrls),
    remote: Object.keys(file.modules).filter((m) => state(m) === 'remote'),
    split: Object.keys(file.modules).filter((m) => state(m) !== 'local'),
  };
}

export function loadTopology(config: Pick<Config, 'TOPOLOGY_FILE' | 'moduleUrls' | 'MONOLITH_URLS'>): Topology {
  return resolveTopology(readTopologyFile(config.TOPOLOGY_FILE), config);
}

/** What a deployable runs: the monolith leaves out the modules that are remote; a service runs what it was given. */
export function hostedModules<M extends { manifest: { name: string } }>(modules: readonly M[], topology: Topology, deployable: string): M[] {
  if (deployable !== 'monolith') return [...modules];
  return modules.filter((m) => topology.state(m.manifest.name) !== 'remote');
}

/**
 * Events of a module that runs elsewhere only cross processes on a shared broker. That holds while
 * migrating too: the service's relay drains the same outbox as the monolith's, so an event it
 * claims must reach subscribers wherever they run.
 */
export function checkBusFitsTopology(topology: Topology, bus: string, deployable: string): void {
  if (bus === 'bullmq') return;
  if (deployable !== 'monolith') throw new TopologyError(`${deployable} runs apart from the monolith, so its events need BUS=bullmq`);
  const split = topology.split;
  if (split.length) throw new TopologyError(`${split.join(', ')} also run(s) as a service (topology: migrating or remote), so events must cross processes: set BUS=bullmq`);
}
