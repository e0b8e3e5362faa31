// Is every value one side may write still accepted by the side that reads it? Compares two JSON
// Schemas (zod's `z.toJSONSchema`, normalised by check-contracts-snapshot.ts) keyword by keyword
// and names each place where the reader would refuse something the writer may send. It proves
// compatibility for the keywords zod emits for contracts (types, enums, objects, arrays, unions,
// bounds, patterns); any other keyword that changed is reported as unprovable, never ignored.
//
// Who reads and who writes decides the direction:
//   input          the new provider reads what callers built against the old schema send
//   output         callers built against the old schema read what the new provider answers
//   event-replay   new consumers read events already stored (outbox, dead letters, replays)
//   event-forward  consumers not yet redeployed read events the new publisher sends
import { type JsonSchema, type SchemaObject, isSchemaObject } from './check-contracts-json-schema.ts';

export type Direction = 'input' | 'output' | 'event-replay' | 'event-forward';

export type BreakKind = 'type' | 'enum' | 'required' | 'removed' | 'closed' | 'bound' | 'pattern' | 'union' | 'unprovable';

export interface SchemaBreak {
  kind: BreakKind;
  /** `$.lines[].quantity`: where in the payload. */
  path: string;
  /** What changed, in plain words, old value first. */
  what: string;
}

/** Keywords whose change this check cannot judge: a change in one of them is reported as unprovable. */
const UNMODELLED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'contains',
  'minContains',
  'maxContains',
  'patternProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
];

interface Walk {
  direction: Direction;
  readerRoot: JsonSchema;
  writerRoot: JsonSchema;
  /** Pairs of $refs already being compared: a recursive schema is compatible unless some finite part of it is not. */
  comparing: Set<string>;
}

/** Every place where `reader` refuses a value `writer` may produce, in the given direction. */
export function schemaBreaks(reader: JsonSchema, writer: JsonSchema, direction: Direction): SchemaBreak[] {
  return covers(reader, writer, '$', { direction, readerRoot: reader, writerRoot: writer, comparing: new Set() });
}

const readerIsNew = (d: Direction) => d === 'input' || d === 'event-replay';
// Providers and publishers parse what they send through their own schema, so they send only the
// fields they declare and always fill defaults; callers of an input are under no such rule.
const writerSendsOnlyDeclared = (d: Direction) => d !== 'input';

function covers(readerIn: JsonSchema, writerIn: JsonSchema, path: string, walk: Walk): SchemaBreak[] {
  const refKey = `${refOf(readerIn) ?? ''}|${refOf(writerIn) ?? ''}`;
  if (refKey !== '|') {
    if (walk.comparing.has(refKey)) return [];
    walk.comparing.add(refKey);
    try {
      return covers(deref(readerIn, walk.readerRoot), deref(writerIn, walk.writerRoot), path, walk);
    } finally {
      walk.comparing.delete(refKey);
    }
  }
  const reader = readerIn;
  const writer = writerIn;
  if (writer === false) return [];
  if (reader === true || (isSchemaObject(reader) && acceptsAnything(reader))) return [];
  if (reader === false) return [breakAt('closed', path, readerIsNew(walk.direction) ? 'no longer accepted' : 'now sent where nothing was expected')];
  const w: SchemaObject = writer === true ? {} : writer;
  const r = reader;

  const unprovable = UNMODELLED.filter((k) => (k in r || k in w) && JSON.stringify(r[k]) !== JSON.stringify(w[k]));
  if (unprovable.length > 0) return [breakAt('unprovable', path, `${unprovable.join(', ')} changed; this check cannot prove the change compatible`)];

  const writerBranches = branchesOf(w);
  const readerBranches = branchesOf(r);
  if (writerBranches) {
    return writerBranches.flatMap((b) => {
      const breaks = covers(r, b, path, walk);
      // A member whose very type the reader no longer takes is a union member gone, not a field narrowed.
      const only = breaks.length === 1 ? breaks[0] : undefined;
      if (!readerBranches && only?.kind === 'type' && only.path === path) {
        return [breakAt('union', path, readerIsNew(walk.direction) ? `union member ${describe(b)} removed` : `new union member ${describe(b)}`)];
      }
      return breaks;
    });
  }
  if (readerBranches) return coveredByABranch(readerBranches, w, path, walk);

  const typeBreak = checkTypes(r, w, path, walk.direction);
  if (typeBreak) return [typeBreak];

  const readerValues = enumOf(r);
  const writerValues = enumOf(w);
  if (readerValues) return checkEnum(readerValues, writerValues, w, path, walk.direction);
  if (writerValues) return checkValuesAgainst(r, writerValues, path, walk.direction);

  const writerTypes = typesOf(w) ?? new Set(['array', 'boolean', 'null', 'number', 'object', 'string']);
  const breaks: SchemaBreak[] = [];
  if (writerTypes.has('number') || writerTypes.has('integer')) breaks.push(...checkNumbers(r, w, path, walk.direction, onlyIntegers(writerTypes)));
  if (writerTypes.has('string')) breaks.push(...checkStrings(r, w, path, walk.direction));
  if (writerTypes.has('array')) breaks.push(...checkArrays(r, w, path, walk));
  if (writerTypes.has('object')) breaks.push(...checkObjects(r, w, path, walk));
  return breaks;
}

function coveredByABranch(readerBranches: JsonSchema[], w: SchemaObject, path: string, walk: Walk): SchemaBreak[] {
  const attempts = readerBranches.map((b) => covers(b, w, path, walk));
  if (attempts.some((a) => a.length === 0)) return [];
  // No branch takes every value: report against the branch of the same type that comes closest,
  // which names the narrowed field; without such a branch the writer's kind of value lost its member.
  const writerTypes = typesOf(w);
  const sameType = attempts
    .map((breaks, i) => ({ breaks, branch: readerBranches[i] }))
    .filter(({ branch }) => writerTypes && isSchemaObject(branch) && [...writerTypes].some((t) => accepts(typesOf(branch), t)))
    .sort((a, b) => a.breaks.length - b.breaks.length);
  // In a tagged union the member with the same tag is the one that changed.
  const closest = sameType.find(({ branch }) => sameTag(branch, w)) ?? sameType[0];
  if (closest) return closest.breaks;
  return [breakAt('union', path, readerIsNew(walk.direction) ? `union member ${describe(w)} removed` : `new union member ${describe(w)}`)];
}

/** Both objects carry a property fixed to the same constant (the tag of a discriminated union). */
function sameTag(a: JsonSchema | undefined, b: SchemaObject): boolean {
  if (!isSchemaObject(a)) return false;
  const bProps = propsOf(b);
  return Object.entries(propsOf(a)).some(([key, s]) => {
    const other = bProps[key];
    return isSchemaObject(s) && 'const' in s && isSchemaObject(other) && 'const' in other && JSON.stringify(s.const) === JSON.stringify(other.const);
  });
}

function checkTypes(r: SchemaObject, w: SchemaObject, path: string, d: Direction): SchemaBreak | undefined {
  const rt = typesOf(r);
  if (!rt) return undefined;
  const wt = typesOf(w);
  const missing = wt ? [...wt].filter((t) => !accepts(rt, t)) : ['any value'];
  if (missing.length === 0) return undefined;
  const [oldT, newT] = oldNew(d, typeList(rt), wt ? typeList(wt) : 'any value');
  // `string | number` losing `number` (or `string` gaining `null`) is a union member, not a new type.
  const kept = wt ? [...wt].filter((t) => accepts(rt, t)) : [];
  if (kept.length > 0) {
    const members = missing.sort().join(', ');
    return breakAt('union', path, readerIsNew(d) ? `union member ${members} removed (was ${oldT})` : `new union member ${members} (was ${oldT})`);
  }
  return breakAt('type', path, `type changed from ${oldT} to ${newT}`);
}

function checkEnum(readerValues: unknown[], writerValues: unknown[] | undefined, w: SchemaObject, path: string, d: Direction): SchemaBreak[] {
  const allowed = new Set(readerValues.map((v) => JSON.stringify(v)));
  if (!writerValues) {
    const anyOf = `any ${typeList(typesOf(w) ?? new Set(['value']))}`;
    const [oldV, newV] = oldNew(d, `one of ${valueList(readerValues)}`, anyOf);
    return [breakAt('enum', path, `changed from ${oldV} to ${newV}`)];
  }
  const outside = writerValues.filter((v) => !allowed.has(JSON.stringify(v)));
  if (outside.length === 0) return [];
  const values = valueList(outside);
  return [breakAt('enum', path, readerIsNew(d) ? `value ${values} removed` : `new value ${values}`)];
}

/** The writer sends a fixed set of values; the reader constrains them by keywords instead. */
function checkValuesAgainst(r: SchemaObject, values: unknown[], path: string, d: Direction): SchemaBreak[] {
  const refused = values.filter((v) => !primitiveAccepted(r, v));
  if (refused.length === 0) return [];
  return [breakAt('enum', path, readerIsNew(d) ? `value ${valueList(refused)} no longer accepted` : `new value ${valueList(refused)} outside what readers accept`)];
}

function checkNumbers(r: SchemaObject, w: SchemaObject, path: string, d: Direction, integers: boolean): SchemaBreak[] {
  const breaks: SchemaBreak[] = [];
  const rLow = lowerBound(r, integers);
  const wLow = lowerBound(w, integers);
  if (rLow && (!wLow || wLow.v < rLow.v || (wLow.v === rLow.v && rLow.excl && !wLow.excl))) breaks.push(boundBreak(path, 'lower bound', fmtLow(rLow), wLow && fmtLow(wLow), d));
  const rHigh = upperBound(r, integers);
  const wHigh = upperBound(w, integers);
  if (rHigh && (!wHigh || wHigh.v > rHigh.v || (wHigh.v === rHigh.v && rHigh.excl && !wHigh.excl))) breaks.push(boundBreak(path, 'upper bound', fmtHigh(rHigh), wHigh && fmtHigh(wHigh), d));
  const rm = num(r.multipleOf);
  const wm = num(w.multipleOf);
  if (rm !== undefined && (wm === undefined || !isMultiple(wm, rm))) breaks.push(boundBreak(path, 'multipleOf', String(rm), wm === undefined ? undefined : String(wm), d));
  return breaks;
}

function checkStrings(r: SchemaObject, w: SchemaObject, path: string, d: Direction): SchemaBreak[] {
  const breaks = [...minMax(r, w, 'minLength', 'maxLength', path, d)];
  for (const k of ['pattern', 'format'] as const) {
    if (r[k] === undefined || r[k] === w[k]) continue;
    const show = (v: unknown) => (v === undefined ? undefined : k === 'pattern' ? `/${String(v)}/` : String(v));
    const [oldV, newV] = oldNew(d, show(r[k]), show(w[k]));
    const what = oldV === undefined ? `${k} added: ${newV}` : newV === undefined ? `${k} removed (was ${oldV})` : `${k} changed from ${oldV} to ${newV}`;
    breaks.push(breakAt('pattern', path, what));
  }
  return breaks;
}

function checkArrays(r: SchemaObject, w: SchemaObject, path: string, walk: Walk): SchemaBreak[] {
  const breaks = [...minMax(r, w, 'minItems', 'maxItems', path, walk.direction)];
  if (r.uniqueItems === true && w.uniqueItems !== true) breaks.push(breakAt('bound', path, readerIsNew(walk.direction) ? 'items must now be unique' : 'items may now repeat'));
  const rPrefix = schemaList(r.prefixItems);
  const wPrefix = schemaList(w.prefixItems);
  const rRest = (r.items ?? true) as JsonSchema;
  const wRest = (w.items ?? true) as JsonSchema;
  const positions = Math.max(rPrefix.length, wPrefix.length);
  for (let i = 0; i < positions; i++) breaks.push(...covers(rPrefix[i] ?? rRest, wPrefix[i] ?? wRest, `${path}[${i}]`, walk));
  breaks.push(...covers(rRest, wRest, `${path}[]`, walk));
  return breaks;
}

function checkObjects(r: SchemaObject, w: SchemaObject, path: string, walk: Walk): SchemaBreak[] {
  const d = walk.direction;
  const breaks = [...minMax(r, w, 'minProperties', 'maxProperties', path, d)];
  const rProps = propsOf(r);
  const wProps = propsOf(w);
  const rRequired = new Set(stringList(r.required));
  const wGuaranteed = new Set(stringList(w.required));
  // A writer that parses what it sends fills a default in, so the field always arrives.
  if (writerSendsOnlyDeclared(d)) for (const [k, s] of Object.entries(wProps)) if (isSchemaObject(s) && 'default' in s) wGuaranteed.add(k);
  const rExtra = (r.additionalProperties ?? true) as JsonSchema;
  const wExtra = (w.additionalProperties ?? true) as JsonSchema;

  for (const [key, readerProp] of Object.entries(rProps).sort(([a], [b]) => a.localeCompare(b))) {
    const at = child(path, key);
    const writerProp = wProps[key];
    if (rRequired.has(key) && !wGuaranteed.has(key)) {
      const declared = key in wProps;
      const what = readerIsNew(d) ? (declared ? 'field became required' : 'new required field') : declared ? 'field became optional' : 'field removed';
      breaks.push(breakAt(declared ? 'required' : readerIsNew(d) ? 'required' : 'removed', at, what));
      if (!declared) continue;
    }
    if (writerProp !== undefined) breaks.push(...covers(readerProp, writerProp, at, walk));
    else if (isSchemaObject(wExtra) && !acceptsAnything(wExtra)) breaks.push(...covers(readerProp, wExtra, at, walk));
    else if (!readerIsNew(d) && !rRequired.has(key)) breaks.push(breakAt('removed', at, 'optional field removed'));
  }
  for (const [key, writerProp] of Object.entries(wProps).sort(([a], [b]) => a.localeCompare(b))) {
    if (key in rProps) continue;
    if (rExtra === false) breaks.push(breakAt('closed', child(path, key), readerIsNew(d) ? 'field no longer accepted' : 'new field, but readers refuse fields they do not know'));
    else breaks.push(...covers(rExtra, writerProp, child(path, key), walk));
  }
  if (!writerSendsOnlyDeclared(d) && wExtra !== false) {
    if (rExtra === false) breaks.push(breakAt('closed', path, 'fields it does not declare are now refused'));
    else breaks.push(...covers(rExtra, wExtra, `${path}.*`, walk));
  }
  if (r.propertyNames !== undefined) breaks.push(...covers(r.propertyNames as JsonSchema, (w.propertyNames ?? { type: 'string' }) as JsonSchema, `${path}{keys}`, walk));
  return breaks;
}

function minMax(r: SchemaObject, w: SchemaObject, minKey: string, maxKey: string, path: string, d: Direction): SchemaBreak[] {
  const breaks: SchemaBreak[] = [];
  const rMin = num(r[minKey]);
  const wMin = num(w[minKey]);
  if (rMin !== undefined && rMin > 0 && (wMin === undefined || wMin < rMin)) breaks.push(boundBreak(path, minKey, String(rMin), wMin === undefined ? undefined : String(wMin), d));
  const rMax = num(r[maxKey]);
  const wMax = num(w[maxKey]);
  if (rMax !== undefined && (wMax === undefined || wMax > rMax)) breaks.push(boundBreak(path, maxKey, String(rMax), wMax === undefined ? undefined : String(wMax), d));
  return breaks;
}

function boundBreak(path: string, label: string, readerV: string, writerV: string | undefined, d: Direction): SchemaBreak {
  const [oldV, newV] = oldNew(d, readerV, writerV);
  const what = oldV === undefined ? `${label} added: ${newV}` : newV === undefined ? `${label} removed (was ${oldV})` : `${label} changed from ${oldV} to ${newV}`;
  return breakAt('bound', path, what);
}

interface Bound {
  v: number;
  excl: boolean;
}

function lowerBound(s: SchemaObject, integers: boolean): Bound | undefined {
  const min = num(s.minimum);
  const ex = num(s.exclusiveMinimum);
  let b: Bound | undefined;
  if (min !== undefined) b = { v: min, excl: false };
  if (ex !== undefined && (!b || ex >= b.v)) b = { v: ex, excl: true };
  // For whole numbers "> 0" and "≥ 1" are the same set.
  if (b && integers) b = { v: b.excl ? Math.floor(b.v) + 1 : Math.ceil(b.v), excl: false };
  return b;
}

function upperBound(s: SchemaObject, integers: boolean): Bound | undefined {
  const max = num(s.maximum);
  const ex = num(s.exclusiveMaximum);
  let b: Bound | undefined;
  if (max !== undefined) b = { v: max, excl: false };
  if (ex !== undefined && (!b || ex <= b.v)) b = { v: ex, excl: true };
  if (b && integers) b = { v: b.excl ? Math.ceil(b.v) - 1 : Math.floor(b.v), excl: false };
  return b;
}

const fmtLow = (b: Bound) => `${b.excl ? '>' : '≥'} ${b.v}`;
const fmtHigh = (b: Bound) => `${b.excl ? '<' : '≤'} ${b.v}`;

function isMultiple(value: number, of: number): boolean {
  const q = value / of;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

/** A schema that constrains nothing (annotations such as `default` aside). */
function acceptsAnything(s: SchemaObject): boolean {
  return Object.keys(s).every((k) => k === 'default');
}

function refOf(s: JsonSchema): string | undefined {
  return isSchemaObject(s) && typeof s.$ref === 'string' ? s.$ref : undefined;
}

/** Follows a local `$ref` (`#`, `#/$defs/Sku`) within the schema it came from. */
function deref(s: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = refOf(s);
  if (ref === undefined) return s;
  if (!ref.startsWith('#')) return {};
  let target: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    target = target && typeof target === 'object' ? (target as Record<string, unknown>)[part] : undefined;
  }
  return target === undefined ? {} : (target as JsonSchema);
}

function branchesOf(s: SchemaObject): JsonSchema[] | undefined {
  const list = s.anyOf ?? s.oneOf;
  return Array.isArray(list) ? (list as JsonSchema[]) : undefined;
}

function typesOf(s: SchemaObject): Set<string> | undefined {
  if (typeof s.type === 'string') return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type as string[]);
  const values = enumOf(s);
  return values ? new Set(values.map(jsonType)) : undefined;
}

function accepts(types: Set<string> | undefined, t: string): boolean {
  return !types || types.has(t) || (t === 'integer' && types.has('number'));
}

function onlyIntegers(types: Set<string>): boolean {
  return types.has('integer') && !types.has('number');
}

function enumOf(s: SchemaObject): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  if ('const' in s) return [s.const];
  return undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a reader without an enum accepts one fixed value (the keywords zod puts on primitives). */
function primitiveAccepted(r: SchemaObject, v: unknown): boolean {
  if (typeof v === 'string') {
    if (num(r.minLength) !== undefined && v.length < (r.minLength as number)) return false;
    if (num(r.maxLength) !== undefined && v.length > (r.maxLength as number)) return false;
    if (typeof r.pattern === 'string' && !new RegExp(r.pattern, 'u').test(v)) return false;
    return true;
  }
  if (typeof v === 'number') {
    const low = lowerBound(r, false);
    const high = upperBound(r, false);
    if (low && (v < low.v || (v === low.v && low.excl))) return false;
    if (high && (v > high.v || (v === high.v && high.excl))) return false;
    const m = num(r.multipleOf);
    return m === undefined || isMultiple(v, m);
  }
  return true;
}

function propsOf(s: SchemaObject): Record<string, JsonSchema> {
  return s.properties && typeof s.properties === 'object' ? (s.properties as Record<string, JsonSchema>) : {};
}

function schemaList(v: unknown): JsonSchema[] {
  return Array.isArray(v) ? (v as JsonSchema[]) : [];
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Puts the old schema's value first whichever side reads. */
function oldNew<T>(d: Direction, readerV: T, writerV: T): [T, T] {
  return readerIsNew(d) ? [writerV, readerV] : [readerV, writerV];
}

function child(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function typeList(types: Set<string>): string {
  return [...types].sort().join(' | ');
}

function valueList(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function describe(s: JsonSchema): string {
  if (s === true) return 'any value';
  if (s === false) return 'nothing';
  const values = enumOf(s);
  if (values) return valueList(values);
  const types = typesOf(s);
  if (types?.size === 1 && types.has('object')) return `object {${Object.keys(propsOf(s)).sort().join(', ')}}`;
  return types ? typeList(types) : 'any value';
}

function breakAt(kind: BreakKind, path: string, what: string): SchemaBreak {
  return { kind, path, what };
}
