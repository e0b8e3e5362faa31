// What an orders bench run must leave behind before its figure counts, read straight from each
// module's own store once the deployables have stopped: every order decided (CONFIRMED, or
// CANCELLED with a reason from the list), no oversell, money equal to the confirmed orders, and
// each order's Idempotency-Key claimed with the order it placed.
import { CancelReason } from '../../src/modules/orders/index.ts';
import { openModuleStore } from '../../src/platform/data/open-store.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { system } from '../../src/composition-root.ts';
import type { Config } from '../../src/platform/config/env.ts';

export interface RunOutcome {
  orders: number;
  confirmed: number;
  cancelled: Record<string, number>;
}

/**
 * Throws with every broken invariant listed; answers what the stores hold for this run: the
 * orders for its sku (a store may hold an earlier round's orders, of another sku).
 */
export async function checkOrdersRun(config: Config, sku: string, startStock: number, confirmedSeen: number, keyPrefix: string, placedBy: ReadonlyMap<string, string>): Promise<RunOutcome> {
  const defs = await loadAll(system, ['orders', 'inventory', 'payments']);
  const [o, i, p] = (await Promise.all(defs.map((d) => openModuleStore(d.schema, config, 'bench-check')))) as any[];
  try {
    const orders = ((await o.db.select().from(o.tables.orders)) as any[]).filter((x) => x.lines.some((l: any) => l.sku === sku));
    const ids = new Set(orders.map((x) => x.id));
    const sagas = ((await o.db.select().from(o.tables.sagas)) as any[]).filter((x) => ids.has(x.orderId));
    const stock = ((await i.db.select().from(i.tables.stock)) as any[]).find((r) => r.sku === sku);
    const reservations = new Map(((await i.db.select().from(i.tables.reservations)) as any[]).map((r) => [r.orderId, r]));
    const events = ((await p.db.select().from(p.tables.accountEvents)) as any[]).filter((e) => ids.has(e.data.orderId));
    const problems: string[] = [];
    const fail = (what: string) => problems.length < 20 && problems.push(what);

    const confirmed = orders.filter((x) => x.status === 'CONFIRMED');
    const cancelled: Record<string, number> = {};
    for (const x of orders) {
      if (x.status === 'CANCELLED') {
        if (!CancelReason.safeParse(x.reason).success) fail(`order ${x.id} cancelled with reason ${x.reason}`);
        cancelled[x.reason] = (cancelled[x.reason] ?? 0) + 1;
      } else if (x.status !== 'CONFIRMED') fail(`order ${x.id} is ${x.status}`);
    }
    const open = sagas.filter((s) => !s.done).length;
    if (open) fail(`${open} saga(s) not done`);
    if (confirmed.length !== confirmedSeen) fail(`${confirmed.length} orders CONFIRMED in the store, ${confirmedSeen} seen CONFIRMED by the clients`);

    // No oversell: stock never below zero, nothing left reserved, and on hand = start − confirmed.
    const sold = confirmed.reduce((n, x) => n + x.lines.filter((l: any) => l.sku === sku).reduce((m: number, l: any) => m + l.quantity, 0), 0);
    if (!stock) fail(`no stock row for ${sku}`);
    else {
      if (stock.onHand < 0) fail(`stock of ${sku} is ${stock.onHand}`);
      if (stock.reserved !== 0) fail(`${stock.reserved} of ${sku} still reserved`);
      if (stock.onHand !== startStock - sold) fail(`stock of ${sku} is ${stock.onHand}, expected ${startStock} − ${sold}`);
    }
    for (const x of orders) {
      const r = reservations.get(x.id);
      if (x.status === 'CONFIRMED' && r?.status !== 'committed') fail(`confirmed order ${x.id} has reservation ${r?.status}`);
      if (x.status === 'CANCELLED' && r?.status === 'held') fail(`cancelled order ${x.id} still holds stock`);
    }

    // The ledger: one capture per confirmed order, every other capture refunded, net = confirmed totals.
    const captures = new Map<string, number>();
    const refunds = new Map<string, number>();
    let net = 0;
    for (const e of events) {
      if (e.data.type === 'PaymentCaptured') {
        captures.set(e.data.orderId, (captures.get(e.data.orderId) ?? 0) + 1);
        net += e.data.amountMinor;
      }
      if (e.data.type === 'PaymentRefunded') {
        refunds.set(e.data.orderId, (refunds.get(e.data.orderId) ?? 0) + 1);
        net -= e.data.amountMinor;
      }
    }
    for (const x of orders) {
      const c = captures.get(x.id) ?? 0;
      const r = refunds.get(x.id) ?? 0;
      if (x.status === 'CONFIRMED' && (c !== 1 || r !== 0)) fail(`confirmed order ${x.id}: ${c} capture(s), ${r} refund(s)`);
      if (x.status === 'CANCELLED' && (c !== r || r > 1)) fail(`cancelled order ${x.id}: ${c} capture(s), ${r} refund(s)`);
    }
    const expected = confirmed.reduce((n, x) => n + Number(x.totalMinor), 0);
    if (net !== expected) fail(`payments net ${net}, confirmed orders total ${expected}`);

    // One key per order of this run, each holding the answer that placed its order.
    const keyed = ((await o.db.select().from(o.tables.idempotencyKeys)) as any[]).filter((k) => k.key.startsWith(`${keyPrefix}-`));
    if (keyed.length !== orders.length || keyed.length !== placedBy.size) fail(`${keyed.length} idempotency keys for ${orders.length} orders, ${placedBy.size} placed`);
    for (const k of keyed) {
      if (k.status !== 202 || k.response?.id !== placedBy.get(k.key)) fail(`key ${k.key} holds ${k.status} ${k.response?.id}, the order placed with it is ${placedBy.get(k.key)}`);
    }

    if (problems.length) throw new Error(`orders bench run is not consistent; no figure reported:\n  ${problems.join('\n  ')}`);
    return { orders: orders.length, confirmed: confirmed.length, cancelled };
  } finally {
    await Promise.all([o, i, p].map((s) => s.close()));
  }
}
