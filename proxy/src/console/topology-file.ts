// The console's reading of the topology file (TOPOLOGY_FILE, the one the deployables start from):
// which module is local, migrating or remote, and the internal listeners of the monolith and of
// each service. The proxy imports nothing from src/, so the format is read here again, leniently:
// the deployables are the ones that refuse a bad file; the console says what it could not read.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

export type ModuleState = 'local' | 'migrating' | 'remote';

export interface TopologyView {
  /** Where the file is, as configured. */
  file: string | undefined;
  /** Why it could not be read, if it could not. */
  error?: string;
  monolith: string[];
  modules: Record<string, { state: ModuleState; urls: string[] }>;
}

const fileSchema = z.object({
  monolith: z.object({ urls: z.array(z.string().min(1)).default([]) }).default({ urls: [] }),
  modules: z.record(z.string(), z.object({ state: z.enum(['local', 'migrating', 'remote']).default('local'), urls: z.array(z.string().min(1)).default([]) })).default({}),
});

/** `orders:3000` → `http://orders:3000`, trailing slashes dropped (as the deployables read addresses). */
export function normalizeAddress(address: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  return withScheme.replace(/\/+$/, '');
}

const split = (list: string) => list.split(',').map((s) => s.trim()).filter(Boolean).map(normalizeAddress);

export class TopologyFile {
  private cached: { mtimeMs: number; view: TopologyView } | undefined;
  private readonly path: string | undefined;
  private readonly env: Record<string, string | undefined>;

  /** `env`: MONOLITH_URLS and MODULE_<NAME>_URLS override addresses, as they do for the deployables. */
  constructor(path: string | undefined, env: Record<string, string | undefined> = {}) {
    this.path = path;
    this.env = env;
  }

  read(): TopologyView {
    if (!this.path) return this.withEnv({ file: undefined, error: 'no topology file configured (TOPOLOGY_FILE)', monolith: [], modules: {} });
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      return this.withEnv({ file: this.path, error: 'the topology file does not exist: every module is local', monolith: [], modules: {} });
    }
    if (this.cached?.mtimeMs === mtimeMs) return this.cached.view;
    const view = this.withEnv(this.parse(this.path));
    this.cached = { mtimeMs, view };
    return view;
  }

  private parse(path: string): TopologyView {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      return { file: path, error: `the topology file is not valid JSON: ${(err as Error).message}`, monolith: [], modules: {} };
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      return { file: path, error: `the topology file is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, monolith: [], modules: {} };
    }
    const modules: TopologyView['modules'] = {};
    for (const [name, m] of Object.entries(parsed.data.modules)) modules[name] = { state: m.state, urls: m.urls.map(normalizeAddress) };
    return { file: path, monolith: parsed.data.monolith.urls.map(normalizeAddress), modules };
  }

  private withEnv(view: TopologyView): TopologyView {
    const monolith = this.env.MONOLITH_URLS ? split(this.env.MONOLITH_URLS) : view.monolith;
    const modules = { ...view.modules };
    for (const [key, value] of Object.entries(this.env)) {
      const m = /^MODULE_([A-Z0-9_]+)_URLS$/.exec(key);
      if (!m || !value) continue;
      const name = m[1]!.toLowerCase().replace(/_/g, '-');
      modules[name] = { state: modules[name]?.state ?? 'local', urls: split(value) };
    }
    return { ...view, monolith, modules };
  }
}
