import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopologyFile } from './topology-file.ts';

const file = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'console-topology-')), 'topology.json');
  writeFileSync(path, content);
  return path;
};

describe('the console’s reading of the topology file', () => {
  it('reads states and addresses as the deployables do, with the environment’s overrides', () => {
    const path = file(JSON.stringify({ monolith: { urls: ['127.0.0.1:4000/'] }, modules: { payments: { state: 'migrating', urls: ['http://127.0.0.1:4103'] }, orders: { urls: [] } } }));
    expect(new TopologyFile(path, { MODULE_ORDERS_URLS: 'orders-service:4102, http://orders-2:4102' }).read()).toEqual({
      file: path,
      monolith: ['http://127.0.0.1:4000'],
      modules: { payments: { state: 'migrating', urls: ['http://127.0.0.1:4103'] }, orders: { state: 'local', urls: ['http://orders-service:4102', 'http://orders-2:4102'] } },
    });
  });

  it('says what it could not read instead of failing', () => {
    expect(new TopologyFile(file('{ nope')).read().error).toMatch(/^the topology file is not valid JSON/);
    expect(new TopologyFile(file('{"modules":{"x":{"state":"gone"}}}')).read().error).toMatch(/^the topology file is invalid: modules\.x\.state/);
    expect(new TopologyFile('/nonexistent/topology.json').read()).toMatchObject({ error: 'the topology file does not exist: every module is local', modules: {} });
    expect(new TopologyFile(undefined).read().error).toMatch(/TOPOLOGY_FILE/);
  });
});
