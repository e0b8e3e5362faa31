// Parity: the same commerce suite that runs in one process runs against the system with
// modules extracted into their own processes — monolith, services, BullMQ, strangler proxy — and
// must pass unchanged. The all-in-process topology runs in commerce-in-process.test.ts.
import { startSystem, topologies } from '../support/topologies.ts';
import { commerceSuite } from './commerce.suite.ts';
import { domainTestEnv } from './commerce-world.ts';

for (const topology of topologies.filter((t) => t.extracted === 'all' || t.extracted.length > 0)) {
  commerceSuite(`commerce, ${topology.name}`, async () => {
    const system = await startSystem(topology, { env: domainTestEnv });
    return { baseUrl: system.baseUrl, token: system.token, close: system.close };
  });
}
