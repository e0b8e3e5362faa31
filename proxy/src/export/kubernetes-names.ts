// How the route table's names become Kubernetes names: each pool is a Service of the same name
// (the deploy manifests name a deployable's Service after it), each route an HTTPRoute.
import type { RouteConfig } from '../config-schema.ts';

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
