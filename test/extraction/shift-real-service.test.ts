// The catalog extracted and *migrating* (it runs in the monolith and
// as its own service, on the same store), the strangler proxy in front, and its route moved
// 0 → 25 → 50 → 100 → 0 while autocannon sends reads and creations (POST with a body and an
// Idempotency-Key) through the proxy. No request may fail, every body must arrive intact (the
// answer echoes what was created), and every product created must exist exactly once afterwards.
import { describe, expect, it } from 'vitest';
import autocannon from 'autocannon';
import { useSystem } from '../support/topologies.ts';

const system = useSystem({ name: 'catalog migrating', extracted: ['catalog'] }, { state: 'migrating', weight: 0 });

async function sideCounts(): Promise<Record<string, number>> {
  const text = await system().proxy!.metrics.registry.getSingleMetricAsString('proxy_requests_total');
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/proxy_requests_total\{[^}]*route="catalog"[^}]*side="(old|new)"[^}]*\} (\d+)/g)) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
  return counts;
}

describe('shifting a migrating module under load', () => {
  it('moves catalog 0 → 25 → 50 → 100 → 0 with no failed request, bodies intact, each creation once', async () => {
    const sys = system();
    // Several users, so sticky assignment puts some on each side at 25 and 50.
    const admins = await Promise.all(Array.from({ length: 24 }, (_, i) => sys.token(`shift-admin-${i}`, ['admin'])));
    const seed = await fetch(`${sys.baseUrl}/api/v1/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admins[0]}`, 'content-type': 'application/json', 'idempotency-key': 'shift-seed' },
      body: JSON.stringify({ sku: 'SHIFT-SEED', name: 'Seed', priceMinor: 100, currency: 'EUR' }),
    });
    expect(seed.status).toBe(201);

    let n = 0;
    const sent = new Set<string>();
    const answered = new Set<string>();
    const created: string[] = [];
    const bad: string[] = [];
    type Ctx = { sku?: string };
    const create: autocannon.Request = {
      method: 'POST',
      path: '/api/v1/products',
      setupRequest: (req: autocannon.Request, context: object) => {
        const sku = `SHIFT-${++n}`;
        (context as Ctx).sku = sku;
        sent.add(sku);
        return {
          ...req,
          headers: { authorization: `Bearer ${admins[n % admins.length]}`, 'content-type': 'application/json', 'idempotency-key': `shift-${sku}` },
          // A description of varying length so bodies differ in size.
          body: JSON.stringify({ sku, name: `Shifted ${sku}`, description: 'd'.repeat(n % 1500), priceMinor: 100 + n, currency: 'EUR' }),
        };
      },
      onResponse: (status: number, body: string, context: object) => {
        const sku = (context as Ctx).sku!;
        answered.add(sku);
        const answer = JSON.parse(body) as { sku?: string; priceMinor?: number };
        if (status !== 201 || answer.sku !== sku || answer.priceMinor !== 100 + Number(sku.slice(6))) bad.push(`POST ${sku}: ${status} ${body.slice(0, 120)}`);
        else created.push(sku);
      },
    };
    const read: autocannon.Request = {
      method: 'GET',
      path: '/api/v1/products/SHIFT-SEED',
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: { authorization: `Bearer ${admins[Math.floor(Math.random() * admins.length)]}` } }),
      onResponse: (status: number, body: string) => {
        if (status !== 200 || !body.includes('"SHIFT-SEED"')) bad.push(`GET: ${status} ${body.slice(0, 120)}`);
      },
    };

    let done!: (r: autocannon.Result) => void;
    const finished = new Promise<autocannon.Result>((resolve) => (done = resolve));
    const load = autocannon({ url: sys.baseUrl, connections: 8, overallRate: 250, duration: 60, requests: [create, read] }, (err, result) => {
      if (err) throw err;
      done(result);
    });
    const dwell = () => new Promise((r) => setTimeout(r, 1500));
    const sides: Record<number, Record<string, number>> = {};
    for (const weight of [0, 25, 50, 100, 0]) {
      const before = await sideCounts();
      sys.proxy!.setWeight('catalog', weight);
      await dwell();
      const after = await sideCounts();
      sides[weight] = { old: (after.old ?? 0) - (before.old ?? 0), new: (after.new ?? 0) - (before.new ?? 0) };
    }
    load.stop();
    const result = await finished;

    expect(bad).toEqual([]);
    expect(result.errors + result.timeouts + result.non2xx).toBe(0);
    expect(created.length).toBeGreaterThan(100);
    // Weight 100 put (nearly) everything on the service, and a middle weight used both sides.
    expect(sides[100]!.new).toBeGreaterThan(0);
    expect(sides[50]!.old).toBeGreaterThan(0);
    expect(sides[50]!.new).toBeGreaterThan(0);

    // Each creation exists exactly once, whichever side made it, and both sides see it. Stopping
    // the load abandons the requests in flight (at most one per connection): those may or may not
    // have been stored, and nothing else may be.
    const unanswered = [...sent].filter((s) => !answered.has(s));
    expect(unanswered.length).toBeLessThanOrEqual(8);
    const list = async (base: string) => {
      const skus: string[] = [];
      let after: string | undefined;
      for (;;) {
        const url = `${base}/api/v1/products?q=SHIFT-&limit=100${after ? `&after=${after}` : ''}`;
        const page = (await (await fetch(url, { headers: { authorization: `Bearer ${admins[0]}` } })).json()) as { items: { sku: string }[]; nextCursor: string | null };
        skus.push(...page.items.map((p) => p.sku));
        if (!page.nextCursor) return skus;
        after = page.nextCursor;
      }
    };
    for (const base of [sys.monolithUrl, sys.serviceUrls.catalog![0]!]) {
      const skus = (await list(base)).filter((s) => s !== 'SHIFT-SEED');
      expect(new Set(skus).size).toBe(skus.length);
      expect(created.filter((c) => !skus.includes(c))).toEqual([]);
      expect(skus.filter((c) => !created.includes(c) && !unanswered.includes(c))).toEqual([]);
    }
  }, 180_000);
});
