// `npm run bench` runs every benchmark; `npm run bench -- <name> [<name>...]` runs the named ones.
// Each one is a module exporting `run(): Promise<void>` that writes its section of docs/benchmarks.md.
const benches: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  proxy: () => import('./proxy.ts'),
  contracts: () => import('./contracts.ts'),
  bus: () => import('./bus.ts'),
  kernel: () => import('./kernel.ts'),
  orders: () => import('./orders.ts'),
  payments: () => import('./payments.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  console.log(`\n== bench ${name}`);
  const mod = await benches[name]!();
  await mod.run();
}
