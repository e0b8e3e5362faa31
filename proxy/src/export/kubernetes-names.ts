// How the route table's names become Kubernetes names. A pool whose instances are in-cluster
// addresses (the deployed route table, deploy/system/proxy/config.json: http://monolith:3000,
// http://payments-service:3103) is the Service its first address names, on that port; any other
// pool (127.0.0.1 addresses of a local table) is a Service named after the pool, on --port.
import { isIP } from 'node:net';
import type { ProxyConfig, RouteConfig } from '../config-schema.ts';

export interface KubernetesExportOptions {
  namespace: string;
  /** The Gateway the HTTPRoutes attach to. */
  gateway: string;
  /** The port of every pool's Service. */
  port: number;
  /** The Prometheus label that names a deployable's Service in the analysis queries. */
  serviceLabel?: string;
  /** Prometheus, as the analysis reaches it. */
  prometheusAddress?: string;
}

/** A DNS-1123 name (lower case, digits, dashes), at most 63 characters. */
export function dnsName(...parts: string[]): string {
  const name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name.slice(0, 63).replace(/-+$/, '');
}

export const httpRouteName = (r: RouteConfig) => dnsName('strangler', r.name);
export const serviceName = (pool: string) => dnsName(pool);

export const LABELS = { 'app.kubernetes.io/managed-by': 'strangler-proxy-export' };

/** The Service (name and port) that serves a pool. */
export function serviceOf(config: ProxyConfig, pool: string, opts: KubernetesExportOptions): { name: string; port: number } {
  const first = config.pools[pool]?.instances[0];
  const url = first ? new URL(first) : undefined;
  if (url && !isIP(url.hostname) && url.hostname !== 'localhost') {
    return { name: dnsName(url.hostname.split('.')[0]!), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  }
  return { name: serviceName(pool), port: opts.port };
}
