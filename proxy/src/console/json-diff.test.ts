import { describe, expect, it } from 'vitest';
import { differingPaths } from './json-diff.ts';

describe('where two answers differ', () => {
  it('names each differing field by its dotted path, missing ones included, ignored ones left out', () => {
    const served = JSON.stringify({ id: 'a', total: 10, items: [{ sku: 'MUG', price: 5 }, { sku: 'TEA', price: 5 }], asOf: '1' });
    const shadow = JSON.stringify({ id: 'b', total: 12, items: [{ sku: 'MUG', price: 7 }], asOf: '2', extra: true });
    expect(differingPaths(served, shadow, ['id', 'asOf'])).toEqual({ json: true, paths: ['total', 'items.0.price', 'items.1', 'extra'] });
  });

  it('marks the whole body of answers that are not JSON, and nothing when they are the same', () => {
    expect(differingPaths('<html>a</html>', '<html>b</html>', [])).toEqual({ json: false, paths: [''] });
    expect(differingPaths('same', 'same', [])).toEqual({ json: false, paths: [] });
    expect(differingPaths('{"a":1}', '{"a":1}', [])).toEqual({ json: true, paths: [] });
  });
});
