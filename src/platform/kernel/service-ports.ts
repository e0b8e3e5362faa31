// Where a module's service listens when nobody says: its address in the topology, so
// `npm run service -- payments` beside `npm start` needs no PORT and collides with nothing. The
// topology names internal listeners (that is where other deployables call contracts); the public
// listener is 1000 below, as INTERNAL_PORT defaults to PORT + 1000. A module the topology does not
// name gets its place in the system: public 3101 + i, internal 4101 + i (i its index in the manifests).
import type { ModuleManifest } from '../modules/manifest.ts';
import { normalizeAddress, readTopologyFile } from './topology.ts';

export const SERVICE_PUBLIC_PORT_BASE = 3101;
export const INTERNAL_PORT_OFFSET = 1000;

/** The default ports of module `module`'s service, from its place in the system. */
export function defaultServicePorts(manifests: readonly Pick<ModuleManifest, 'name'>[], module: string): { port: number; internalPort: number } {
  const port = SERVICE_PUBLIC_PORT_BASE + Math.max(0, manifests.findIndex((m) => m.name === module));
  return { port, internalPort: port + INTERNAL_PORT_OFFSET };
}

/** The port an address names (`http://payments-service:4103` → 4103), or undefined when it names none. */
export function addressPort(address: string): number | undefined {
  const url = new URL(normalizeAddress(address));
  return url.port ? Number(url.port) : undefined;
}

/**
 * PORT and INTERNAL_PORT for a service started without PORT: from MODULE_<NAME>_URLS or the
 * topology file when either names the module, else its default ports. Nothing when PORT is set.
 */
export function serviceListenDefaults(manifests: readonly Pick<ModuleManifest, 'name'>[], module: string, env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.PORT) return {};
  const override = env[`MODULE_${module.toUpperCase().replace(/-/g, '_')}_URLS`]?.split(',')[0]?.trim();
  const listed = override || readTopologyFile(env.TOPOLOGY_FILE || './topology.json').modules[module]?.urls[0];
  const internal = listed ? addressPort(listed) : undefined;
  const ports = internal && internal > INTERNAL_PORT_OFFSET ? { port: internal - INTERNAL_PORT_OFFSET, internalPort: internal } : defaultServicePorts(manifests, module);
  return { PORT: String(ports.port), ...(env.INTERNAL_PORT ? {} : { INTERNAL_PORT: String(ports.internalPort) }) };
}
