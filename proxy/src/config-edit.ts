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

/** Sets the new side's weight (0–100) of one route; throws if the route does not exist. */
export function setWeight(config: ProxyConfigInput, route: string, weight: number): ProxyConfigInput {
  const routes = config.routes ?? [];
  if (!routes.some((r) => r.name === route)) throw new Error(`no route named "${route}"`);
  return { ...config, routes: routes.map((r) => (r.name === route ? { ...r, weight } : r)) };
}
