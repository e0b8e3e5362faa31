// Pure edits of the config file's raw shape, used by the admin API, the canary controller and
// `npm run extract`. Each returns a new object and never mutates its input, so a caller can
// validate the result before writing it (writeConfig does).
import type { ProxyConfigInput } from './config-schema.ts';

type RawRoute = NonNullable<ProxyConfigInput['routes']>[number];
type RawPool = ProxyConfigInput['pools'][string];

export interface ModuleRoutes {
  /** Pool name for the extracted service, usually the module name. */
  pool: string;
  /** Base URLs of the service's instances. */
  instances: string[];
  /** Public path prefixes of the module, e.g. ['/api/v1/orders']. */
  prefixes: string[];
  /** The side the traffic comes from; `monolith` by default. */
  from?: string;
}

/**
 * Adds (or replaces) the pool `pool` and one route per prefix, named `<pool>` / `<pool>-2` …, from the
 * monolith to the pool at weight 0: nothing moves until someone raises the weight.
 */
export function addRoutes(config: ProxyConfigInput, mod: ModuleRoutes): ProxyConfigInput {
  const from = mod.from ?? 'monolith';
  const pool: RawPool = { ...(config.pools[mod.pool] ?? {}), instances: [...mod.instances] };
  const kept = (config.routes ?? []).filter((r) => r.new !== mod.pool);
  const added: RawRoute[] = mod.prefixes.map((prefix, i) => ({
    name: i === 0 ? mod.pool : `${mod.pool}-${i + 1}`,
    prefix,
    old: from,
    new: mod.pool,
    weight: 0,
  }));
  return { ...config, pools: { ...config.pools, [mod.pool]: pool }, routes: [...kept, ...added] };
}

/** Removes every route that sends traffic to `pool`, and the pool itself (undo of addRoutes). */
export function removeRoutes(config: ProxyConfigInput, pool: string): ProxyConfigInput {
  const pools = { ...config.pools };
  delete pools[pool];
  return { ...config, pools, routes: (config.routes ?? []).filter((r) => r.new !== pool && r.old !== pool) };
}

/** Sets the new side's weight (0–100) of one route; throws if the route does not exist or has no old side. */
export function setWeight(config: ProxyConfigInput, route: string, weight: number): ProxyConfigInput {
  const routes = config.routes ?? [];
  const found = routes.find((r) => r.name === route);
  if (!found) throw new Error(`no route named "${route}"`);
  if (found.old === undefined) throw new Error(`route "${route}" has no old side: all its traffic goes to "${found.new}"`);
  return { ...config, routes: routes.map((r) => (r.name === route ? { ...r, weight } : r)) };
}

/**
 * The module behind `pool` is remote for good (`npm run extract -- <m> --finish`): its routes lose
 * their old side, so no fallback, weight or rollback can send its traffic back to the monolith,
 * and their canary and shadow settings go (there is nothing left to shift or compare). Weight 100
 * stays written, to say so to a reader.
 */
export function finishRoutes(config: ProxyConfigInput, pool: string): ProxyConfigInput {
  const routes = (config.routes ?? []).map((r) => {
    if (r.new !== pool) return r;
    const { old: _old, canary: _canary, shadow: _shadow, ...rest } = r;
    return { ...rest, weight: 100 };
  });
  return { ...config, routes };
}
