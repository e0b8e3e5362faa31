// The manifest rules on hand-made import graphs: which names an import takes, when subscribing
// covers an import, and cycles between modules that no single file closes.
import { describe, expect, it } from 'vitest';
import { checkModules, foreignErrorCodeStrings, importedNames, type ModuleImport, type ModuleInfo } from './module-rules.ts';

describe('importedNames', () => {
  it('reads named, aliased, type-only, multi-line and re-exported names for one specifier', () => {
    const source = [
      "import { z } from 'zod';",
      'import {',
      '  OrderPlaced, // the saga starts here',
      '  type OrderView as View,',
      "} from '../../orders/index.ts';",
      "export { OrderCancelled } from '../../orders/index.ts';",
      "import type { Other } from '../../payments/index.ts';",
    ].join('\n');
    expect(importedNames(source, '../../orders/index.ts')).toEqual(['OrderPlaced', 'OrderView', 'OrderCancelled']);
    expect(importedNames(source, '../../payments/index.ts')).toEqual(['Other']);
  });

  it("answers '*' for namespace imports and when the statement cannot be found", () => {
    expect(importedNames("import * as orders from '../../orders/index.ts';", '../../orders/index.ts')).toBe('*');
    expect(importedNames('const m = await import(name);', '../../orders/index.ts')).toBe('*');
  });
});

const info = (folder: string, manifest: Partial<NonNullable<ModuleInfo['manifest']>> = {}, events: Record<string, string> = {}): ModuleInfo => ({
  folder,
  manifest: { name: folder, dependsOn: [], publishes: [], subscribes: [], ...manifest },
  eventExports: new Map(Object.entries(events)),
});

const edge = (from: string, to: string, names: string[] | '*', file = `src/modules/${from}/app/use.ts`): ModuleImport => ({
  fromModule: from,
  toModule: to,
  fromFile: file,
  toFile: `src/modules/${to}/index.ts`,
  typeOnly: false,
  names,
  testCode: file.includes('/test/'),
});

describe('checkModules', () => {
  const orders = info('orders', { publishes: [{ key: 'OrderPlaced.v1' }] }, { OrderPlaced: 'OrderPlaced.v1' });

  it('accepts an import of subscribed events without dependsOn, and asks for dependsOn for anything else', () => {
    const mail = info('mail', { subscribes: [{ key: 'OrderPlaced.v1' }] });
    expect(checkModules([orders, mail], [edge('mail', 'orders', ['OrderPlaced'])])).toEqual([]);
    const rules = (names: string[] | '*') => checkModules([orders, mail], [edge('mail', 'orders', names)]).map((f) => f.rule.name);
    expect(rules(['ordersContract'])).toEqual(['undeclared-module-dependency']);
    expect(rules(['OrderPlaced', 'OrderNotFound'])).toEqual(['undeclared-module-dependency']);
    expect(rules('*')).toEqual(['undeclared-module-dependency']);
  });

  it('ignores test code for declared dependencies', () => {
    const mail = info('mail');
    expect(checkModules([orders, mail], [edge('mail', 'orders', ['ordersContract'], 'src/modules/mail/test/flow.test.ts')])).toEqual([]);
  });

  it('finds a cycle of three modules that no single file closes, once', () => {
    const a = info('a', { dependsOn: ['b'] });
    const b = info('b', { dependsOn: ['c'] });
    const c = info('c', { dependsOn: ['a'] });
    const findings = checkModules([a, b, c], [edge('a', 'b', ['x']), edge('b', 'c', ['x']), edge('c', 'a', ['x'])]);
    expect(findings.map((f) => f.rule.name)).toEqual(['no-module-cycle']);
    expect(findings[0]!.detail).toContain('a → b → c → a');
  });
});

describe('foreignErrorCodeStrings', () => {
  const inventory: ModuleInfo = { ...info('inventory'), errorCodes: ['OutOfStock'] };
  const orders = info('orders');

  it('finds another module’s error code spelled as a string in production code, in any quotes', () => {
    for (const literal of ["'OutOfStock'", '"OutOfStock"', '`OutOfStock`']) {
      const sources = new Map([['src/modules/orders/app/saga-steps.ts', `if (err.code === ${literal}) cancel();`]]);
      const findings = foreignErrorCodeStrings([inventory, orders], sources);
      expect(findings.map((f) => [f.rule.name, f.from, f.to])).toEqual([['no-foreign-error-code-strings', 'src/modules/orders/app/saga-steps.ts', 'src/modules/inventory/index.ts']]);
    }
  });

  it('leaves alone the module’s own codes, longer words, class references and tests', () => {
    const sources = new Map([
      ['src/modules/inventory/app/reserve.ts', "throw new OutOfStock('OutOfStock')"],
      ['src/modules/orders/app/a.ts', "if (err instanceof OutOfStock) x('OutOfStockWarning');"],
      ['src/modules/orders/test/saga.test.ts', "expect(err.code).toBe('OutOfStock')"],
    ]);
    expect(foreignErrorCodeStrings([inventory, orders], sources)).toEqual([]);
  });
});
