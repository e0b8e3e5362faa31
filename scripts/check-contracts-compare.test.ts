import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compareContracts, formatChange } from './check-contracts-compare.ts';
import { contractsOf, type ManifestShape } from './check-contracts-snapshot.ts';

// One module, `shop`, with one operation and one event: each case changes one piece of it.
interface Version {
  input?: z.ZodType;
  output?: z.ZodType;
  idempotent?: boolean;
  errors?: string[];
  operations?: string[];
  events?: { type: string; version: number; schema: z.ZodType }[];
}

const baseInput = z.object({ sku: z.string(), quantity: z.number().int().positive() });
const baseOutput = z.object({ orderId: z.string(), status: z.enum(['placed', 'refused']) });
const baseEvent = { type: 'OrderPlaced', version: 1, schema: z.object({ orderId: z.string(), total: z.number().int() }) };

function shop(v: Version): ManifestShape {
  const operations = Object.fromEntries(
    (v.operations ?? ['placeOrder']).map((name) => [name, { input: v.input ?? baseInput, output: v.output ?? baseOutput, idempotent: v.idempotent ?? true }]),
  );
  return {
    name: 'shop',
    contract: { operations, errors: (v.errors ?? ['OutOfStock']).map((code) => ({ code })) },
    publishes: v.events ?? [baseEvent],
  };
}

/** The breaking lines between two versions of the shop module. */
function breaks(before: Version, after: Version): string[] {
  return compareContracts(contractsOf([shop(before)]), contractsOf([shop(after)]))
    .filter((c) => c.breaking)
    .map(formatChange);
}

function compatibleNotes(before: Version, after: Version): string[] {
  return compareContracts(contractsOf([shop(before)]), contractsOf([shop(after)]))
    .filter((c) => !c.breaking)
    .map(formatChange);
}

const event = (schema: z.ZodType, version = 1) => ({ type: 'OrderPlaced', version, schema });

describe('breaking changes are named with module, place, JSON path, what changed and what to do', () => {
  const cases: { name: string; before: Version; after: Version; expected: string[] }[] = [
    {
      name: 'a removed operation',
      before: { operations: ['placeOrder', 'cancelOrder'] },
      after: { operations: ['placeOrder'] },
      expected: ['shop operation cancelOrder: operation removed. Instead: keep cancelOrder'],
    },
    {
      name: 'a new required input field',
      before: {},
      after: { input: baseInput.extend({ note: z.string() }) },
      expected: ['shop operation placeOrder input $.note: new required field. Instead: make the field optional'],
    },
    {
      name: 'an optional input field made required',
      before: { input: baseInput.extend({ note: z.string().optional() }) },
      after: { input: baseInput.extend({ note: z.string() }) },
      expected: ['shop operation placeOrder input $.note: field became required'],
    },
    {
      name: 'a string input narrowed to an enum',
      before: {},
      after: { input: baseInput.extend({ sku: z.enum(['MUG', 'KETTLE']) }) },
      expected: ['shop operation placeOrder input $.sku: changed from any string to one of "KETTLE", "MUG". Instead: keep accepting what callers send today'],
    },
    {
      name: 'a number input narrowed to an integer',
      before: { input: baseInput.extend({ weight: z.number() }) },
      after: { input: baseInput.extend({ weight: z.number().int() }) },
      expected: ['shop operation placeOrder input $.weight: type changed from number to integer'],
    },
    {
      name: 'a union member removed from an input',
      before: { input: baseInput.extend({ ref: z.union([z.string(), z.number()]) }) },
      after: { input: baseInput.extend({ ref: z.string() }) },
      expected: ['shop operation placeOrder input $.ref: union member number removed (was number | string)'],
    },
    {
      name: 'a member removed from a tagged union input',
      before: { input: z.object({ pay: z.discriminatedUnion('kind', [z.object({ kind: z.literal('card') }), z.object({ kind: z.literal('invoice'), days: z.number() })]) }) },
      after: { input: z.object({ pay: z.discriminatedUnion('kind', [z.object({ kind: z.literal('card') })]) }) },
      expected: ['shop operation placeOrder input $.pay.kind: value "invoice" removed'],
    },
    {
      name: 'a field narrowed inside one member of a tagged union input',
      before: { input: z.object({ pay: z.discriminatedUnion('kind', [z.object({ kind: z.literal('card') }), z.object({ kind: z.literal('invoice'), days: z.number() })]) }) },
      after: { input: z.object({ pay: z.discriminatedUnion('kind', [z.object({ kind: z.literal('card') }), z.object({ kind: z.literal('invoice'), days: z.number().int() })]) }) },
      expected: ['shop operation placeOrder input $.pay.days: type changed from number to integer'],
    },
    {
      name: 'an input enum value removed',
      before: { input: baseInput.extend({ method: z.enum(['card', 'invoice']) }) },
      after: { input: baseInput.extend({ method: z.enum(['card']) }) },
      expected: ['shop operation placeOrder input $.method: value "invoice" removed'],
    },
    {
      name: 'a tighter minimum on an input',
      before: {},
      after: { input: baseInput.extend({ quantity: z.number().int().min(2) }) },
      expected: ['shop operation placeOrder input $.quantity: lower bound changed from ≥ 1 to ≥ 2'],
    },
    {
      name: 'a tighter maximum on an input',
      before: { input: baseInput.extend({ quantity: z.number().int().max(100) }) },
      after: { input: baseInput.extend({ quantity: z.number().int().max(10) }) },
      expected: ['shop operation placeOrder input $.quantity: upper bound changed from ≤ 100 to ≤ 10'],
    },
    {
      name: 'a tighter length on an input',
      before: { input: baseInput.extend({ sku: z.string().max(40) }) },
      after: { input: baseInput.extend({ sku: z.string().min(2).max(20) }) },
      expected: ['shop operation placeOrder input $.sku: minLength added: 2', 'shop operation placeOrder input $.sku: maxLength changed from 40 to 20'],
    },
    {
      name: 'a regex added to an input',
      before: {},
      after: { input: baseInput.extend({ sku: z.string().regex(/^[A-Z]+$/) }) },
      expected: ['shop operation placeOrder input $.sku: pattern added: /^[A-Z]+$/'],
    },
    {
      name: 'fewer items accepted in an input list',
      before: { input: z.object({ lines: z.array(z.string()).max(100) }) },
      after: { input: z.object({ lines: z.array(z.string()).min(1).max(100) }) },
      expected: ['shop operation placeOrder input $.lines: minItems added: 1'],
    },
    {
      name: 'a field narrowed inside the items of an input list',
      before: { input: z.object({ lines: z.array(z.object({ qty: z.number() })) }) },
      after: { input: z.object({ lines: z.array(z.object({ qty: z.number().int() })) }) },
      expected: ['shop operation placeOrder input $.lines[].qty: type changed from number to integer'],
    },
    {
      name: 'an input that starts refusing fields it does not declare',
      before: {},
      after: { input: z.strictObject(baseInput.shape) },
      expected: ['shop operation placeOrder input $: fields it does not declare are now refused'],
    },
    {
      name: 'an input that stops accepting null',
      before: { input: baseInput.extend({ note: z.string().nullable() }) },
      after: { input: baseInput.extend({ note: z.string() }) },
      expected: ['shop operation placeOrder input $.note: union member null removed (was null | string)'],
    },
    {
      name: 'a removed output field',
      before: {},
      after: { output: baseOutput.omit({ status: true }) },
      expected: ['shop operation placeOrder output $.status: field removed. Instead: keep sending the field'],
    },
    {
      name: 'a removed optional output field',
      before: { output: baseOutput.extend({ note: z.string().optional() }) },
      after: {},
      expected: ['shop operation placeOrder output $.note: optional field removed'],
    },
    {
      name: 'an output field made optional',
      before: {},
      after: { output: baseOutput.extend({ status: baseOutput.shape.status.optional() }) },
      expected: ['shop operation placeOrder output $.status: field became optional'],
    },
    {
      name: 'a new enum value in an output (callers parse answers with the schema they were built with)',
      before: {},
      after: { output: baseOutput.extend({ status: z.enum(['placed', 'refused', 'queued']) }) },
      expected: ['shop operation placeOrder output $.status: new value "queued". Instead: keep the answer within what callers accept today'],
    },
    {
      name: 'an output that may now be null',
      before: {},
      after: { output: baseOutput.extend({ orderId: z.string().nullable() }) },
      expected: ['shop operation placeOrder output $.orderId: new union member null (was string)'],
    },
    {
      name: 'a wider output range',
      before: { output: baseOutput.extend({ total: z.number().int().nonnegative() }) },
      after: { output: baseOutput.extend({ total: z.number().int() }) },
      expected: ['shop operation placeOrder output $.total: lower bound changed from ≥ 0 to ≥ -9007199254740991'],
    },
    {
      name: 'an operation that is no longer idempotent',
      before: { idempotent: true },
      after: { idempotent: false },
      expected: ['shop operation placeOrder: no longer idempotent, but callers built against it retry it'],
    },
    {
      name: 'a removed error code',
      before: { errors: ['OutOfStock', 'PaymentDeclined'] },
      after: { errors: ['OutOfStock'] },
      expected: ['shop errors: error code PaymentDeclined removed. Instead: keep declaring PaymentDeclined'],
    },
    {
      name: 'an event narrowed without a new version',
      before: { events: [event(z.object({ orderId: z.string(), reason: z.string() }))] },
      after: { events: [event(z.object({ orderId: z.string(), reason: z.enum(['declined', 'out_of_stock']) }))] },
      expected: [
        'shop event OrderPlaced.v1 $.reason: changed from any string to one of "declined", "out_of_stock". Instead: publish OrderPlaced v2 with the new schema beside v1',
      ],
    },
    {
      name: 'an event that gained a required field without a new version (stored events lack it)',
      before: {},
      after: { events: [event(baseEvent.schema.extend({ currency: z.string() }))] },
      expected: ['shop event OrderPlaced.v1 $.currency: new required field. Instead: publish OrderPlaced v2'],
    },
    {
      name: 'an event that lost a field without a new version (consumers not yet redeployed need it)',
      before: {},
      after: { events: [event(z.object({ orderId: z.string() }))] },
      expected: ['shop event OrderPlaced.v1 $.total: field removed. Instead: publish OrderPlaced v2'],
    },
    {
      name: 'a removed event version',
      before: { events: [baseEvent, event(baseEvent.schema.extend({ currency: z.string() }), 2)] },
      after: { events: [event(baseEvent.schema.extend({ currency: z.string() }), 2)] },
      expected: ['shop event OrderPlaced.v1: event version removed. Instead: keep publishing OrderPlaced.v1 beside its successor'],
    },
    {
      name: 'a shared schema ($defs) narrowed',
      before: { input: baseInput.extend({ sku: z.string().meta({ id: 'NarrowedSkuForCompareTest' }) }) },
      after: { input: baseInput.extend({ sku: z.string().max(8).meta({ id: 'NarrowedSkuForCompareTest2' }) }) },
      expected: ['shop operation placeOrder input $.sku: maxLength added: 8'],
    },
    {
      name: 'a change inside a recursive schema',
      before: { input: z.object({ tree: recursiveNode(z.string()) }) },
      after: { input: z.object({ tree: recursiveNode(z.string().max(10)) }) },
      expected: ['shop operation placeOrder input $.tree.label: maxLength added: 10'],
    },
    {
      name: 'a change this check cannot judge (an intersection)',
      before: { input: baseInput.extend({ code: z.intersection(z.string(), z.string().max(5)) }) },
      after: { input: baseInput.extend({ code: z.intersection(z.string(), z.string().max(9)) }) },
      expected: ['shop operation placeOrder input $.code: allOf changed; this check cannot prove the change compatible'],
    },
  ];

  for (const c of cases) {
    it(`fails on ${c.name}`, () => {
      const found = breaks(c.before, c.after);
      expect(found).toHaveLength(c.expected.length);
      c.expected.forEach((line, i) => expect(found[i]).toContain(line));
    });
  }
});

describe('compatible changes pass', () => {
  const cases: { name: string; before: Version; after: Version; note?: string }[] = [
    { name: 'a new optional input field', before: {}, after: { input: baseInput.extend({ note: z.string().optional() }) }, note: 'input: schema changed compatibly' },
    { name: 'a new input field with a default', before: {}, after: { input: baseInput.extend({ gift: z.boolean().default(false) }) } },
    { name: 'a required input field made optional', before: {}, after: { input: baseInput.extend({ quantity: z.number().int().positive().optional() }) } },
    { name: 'a new output field', before: {}, after: { output: baseOutput.extend({ placedAt: z.string() }) } },
    { name: 'a new operation', before: {}, after: { operations: ['placeOrder', 'cancelOrder'] }, note: 'shop operation cancelOrder: new operation' },
    { name: 'an input widened from integer to number', before: {}, after: { input: baseInput.extend({ quantity: z.number() }) } },
    { name: 'an input enum that gained a value', before: { input: z.object({ m: z.enum(['a']) }) }, after: { input: z.object({ m: z.enum(['a', 'b']) }) } },
    { name: 'an input enum widened to any string', before: { input: z.object({ m: z.enum(['a']) }) }, after: { input: z.object({ m: z.string() }) } },
    { name: 'a new member in a tagged union input', before: { input: z.object({ p: z.discriminatedUnion('k', [z.object({ k: z.literal('a') })]) }) }, after: { input: z.object({ p: z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b') })]) }) } },
    { name: 'an input that accepts a new union member', before: { input: z.object({ r: z.string() }) }, after: { input: z.object({ r: z.union([z.string(), z.number()]) }) } },
    { name: 'a looser input bound and a dropped pattern', before: { input: z.object({ s: z.string().max(5).regex(/^a/) }) }, after: { input: z.object({ s: z.string().max(50) }) } },
    { name: 'an output narrowed (callers accept less than before, never more)', before: { output: baseOutput.extend({ n: z.number() }) }, after: { output: baseOutput.extend({ n: z.number().int().min(0) }) } },
    { name: 'an output enum that lost a value', before: {}, after: { output: baseOutput.extend({ status: z.enum(['placed']) }) } },
    { name: 'an operation that became idempotent', before: { idempotent: false }, after: { idempotent: true }, note: 'now idempotent' },
    { name: 'a new error code', before: {}, after: { errors: ['OutOfStock', 'Closed'] }, note: 'shop errors: new error code Closed' },
    { name: 'a new event version beside the old', before: {}, after: { events: [baseEvent, event(z.object({ orderId: z.string() }), 2)] }, note: 'shop event OrderPlaced.v2: new version beside the old' },
    { name: 'a new optional event field (old and new consumers both read it)', before: {}, after: { events: [event(baseEvent.schema.extend({ note: z.string().optional() }))] } },
    { name: 'only descriptions changed', before: {}, after: { input: baseInput.extend({ sku: z.string().describe('the product') }).describe('an order') } },
    {
      name: 'a schema shared through $defs instead of written inline',
      before: { input: baseInput.extend({ sku: z.string().regex(/^[A-Z]+$/) }) },
      after: { input: baseInput.extend({ sku: z.string().regex(/^[A-Z]+$/).meta({ id: 'SharedSkuForCompareTest' }) }) },
      note: 'input: schema changed compatibly',
    },
    { name: 'an unchanged recursive schema', before: { input: z.object({ tree: recursiveNode(z.string()) }) }, after: { input: z.object({ tree: recursiveNode(z.string()) }) } },
  ];

  for (const c of cases) {
    it(`passes ${c.name}`, () => {
      expect(breaks(c.before, c.after)).toEqual([]);
      if (c.note) expect(compatibleNotes(c.before, c.after).join('\n')).toContain(c.note);
    });
  }

  it('reports nothing when nothing changed', () => {
    expect(compareContracts(contractsOf([shop({})]), contractsOf([shop({})]))).toEqual([]);
  });
});

function recursiveNode(label: z.ZodString): z.ZodType {
  const node: z.ZodType = z.object({
    label,
    get children() {
      return z.array(node);
    },
  });
  return node;
}
