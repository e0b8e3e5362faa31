// The proxy has no API of its own: `GET /openapi.json` on its public port answers the document of
// what it routes. Each pool's deployables document their own public routes (generated from their
// schemas); the proxy fetches each pool's document from one of its instances and keeps, for every
// path, the operations of the pool its route table sends that path to (the new side once the
// weight reaches half, else the old side; the default pool for paths no route claims), falling
// back to whichever pool documents a path the chosen one does not (a module that left the
// monolith). Every operation also lists what the proxy itself may answer (502, 503, 504).
import type { RouteTable } from './route-table.ts';

type Document = { paths?: Record<string, Record<string, Record<string, unknown>>>; components?: Record<string, Record<string, unknown>>; [k: string]: unknown };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

const proxyAnswer = (description: string) => ({
  description: `${description} (answered by the proxy)`,
  content: { 'application/problem+json': { schema: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } }, required: ['title', 'status'] } } },
});

/** Which pool the route table sends `path` (an OpenAPI path template) to. */
function poolFor(table: RouteTable, path: string, method: string): string {
  const route = table.match(method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'))?.config;
  if (!route) return table.config.defaultPool;
  return route.old === undefined || route.weight >= 50 ? route.new : route.old;
}

export function mergeDocuments(table: RouteTable, documents: ReadonlyMap<string, Document>): Document {
  const paths: Record<string, Record<string, Record<string, unknown>>> = {};
  const components: Record<string, Record<string, unknown>> = {};
  const owners = new Map<string, Set<string>>(); // "method path" → pools documenting it
  for (const [pool, doc] of documents) {
    for (const [section, entries] of Object.entries(doc.components ?? {})) Object.assign((components[section] ??= {}), entries);
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(item)) if (METHODS.has(method)) (owners.get(`${method} ${path}`) ?? owners.set(`${method} ${path}`, new Set()).get(`${method} ${path}`)!).add(pool);
    }
  }
  for (const [key, pools] of owners) {
    const [method, path] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
    const wanted = poolFor(table, path, method);
    const from = pools.has(wanted) ? wanted : [...pools][0]!;
    const op = structuredClone(documents.get(from)!.paths![path]![method]) as { responses?: Record<string, unknown>; 'x-pool'?: string };
    op['x-pool'] = from;
    if (path.startsWith('/api/')) {
      op.responses ??= {};
      op.responses['502'] ??= proxyAnswer('No instance of the pool could be reached');
      op.responses['503'] ??= proxyAnswer('The pool has no instance in rotation');
      op.responses['504'] ??= proxyAnswer('The upstream did not answer in time');
    }
    (paths[path] ??= {})[method] = op as Record<string, unknown>;
  }
  const base = documents.get(table.config.defaultPool) ?? [...documents.values()][0] ?? {};
  return {
    ...base,
    info: { title: 'Public API behind the strangler proxy', version: '1', description: `What the proxy routes, merged from the documents of the pools it sends each path to (${[...documents.keys()].join(', ')}).` },
    paths,
    components,
  };
}

/** Fetches each pool's document from its first healthy instance (the first one when none is). */
export async function routedDocument(table: RouteTable, timeoutMs = 2_000): Promise<Document | undefined> {
  const documents = new Map<string, Document>();
  await Promise.all(
    [...table.pools.values()].map(async (pool) => {
      const inst = pool.instances.find((i) => i.healthy) ?? pool.instances[0];
      if (!inst) return;
      try {
        const res = await fetch(new URL('/openapi.json', inst.url), { signal: AbortSignal.timeout(timeoutMs) });
        if (res.ok) documents.set(pool.name, (await res.json()) as Document);
        else await res.arrayBuffer();
      } catch {
        // unreachable or not a deployable of ours: its paths are left out
      }
    }),
  );
  // The default pool's document first: the merged document takes its top-level fields.
  const ordered = new Map([...documents].sort(([a], [b]) => Number(b === table.config.defaultPool) - Number(a === table.config.defaultPool)));
  return ordered.size ? mergeDocuments(table, ordered) : undefined;
}
