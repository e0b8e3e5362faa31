// Edits of a JSON file (the proxy's route table, the topology) keep it as its author formatted it.
import { describe, expect, it } from 'vitest';
import { editJsonText } from './edit-json-text.ts';

const file = `{
    "pools": {
        "monolith": { "instances": ["http://127.0.0.1:3000"], "balance": "round-robin" },
        "orders": { "instances": ["http://127.0.0.1:4001"] }
    },
    "routes": [
        { "name": "orders", "prefix": "/api/v1/orders", "old": "monolith", "new": "orders", "weight": 10, "canary": { "steps": [{ "weight": 5, "dwellMs": 1000 }] } },
        { "name": "other", "prefix": "/api/v1/other", "old": "monolith", "new": "monolith" }
    ]
}
`;

describe('format-preserving JSON edits', () => {
  it('changes a value in place and leaves every other line as it was', () => {
    const next = JSON.parse(file);
    next.routes[0].weight = 25;
    const out = editJsonText(file, JSON.parse(file), next);
    expect(out).toBe(file.replace('"weight": 10,', '"weight": 25,'));
  });

  it('removes fields and elements without reformatting their neighbours', () => {
    const next = JSON.parse(file);
    delete next.routes[0].canary;
    delete next.routes[0].old;
    next.routes.splice(1, 1);
    delete next.pools.orders;
    const out = editJsonText(file, JSON.parse(file), next);
    expect(JSON.parse(out)).toEqual(next);
    expect(out).toContain('        "monolith": { "instances": ["http://127.0.0.1:3000"], "balance": "round-robin" }\n');
    expect(out).toContain('{ "name": "orders", "prefix": "/api/v1/orders", "new": "orders", "weight": 10 }');
  });

  it('lays out what it adds with the file’s own indentation', () => {
    const next = JSON.parse(file);
    next.pools.payments = { instances: ['http://127.0.0.1:4002'] };
    next.routes.push({ name: 'payments', prefix: '/api/v1/payments', old: 'monolith', new: 'payments', weight: 0 });
    const out = editJsonText(file, JSON.parse(file), next);
    expect(JSON.parse(out)).toEqual(next);
    // Objects one key a line at the depth they land, lists of plain values on one line.
    expect(out).toContain('        "orders": { "instances": ["http://127.0.0.1:4001"] },\n        "payments": {\n            "instances": ["http://127.0.0.1:4002"]\n        }\n');
    expect(out).toContain('\n        {\n            "name": "payments",\n');
    expect(out.split('\n').slice(0, 3).join('\n')).toBe(file.split('\n').slice(0, 3).join('\n'));
  });
});
