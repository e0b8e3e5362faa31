// Compares the contracts and events of two versions of the system and names every change that
// would break a deployable built against the older one: a caller of an operation, or a consumer
// of an event, that has not been redeployed yet. Each change says where it is and what to do
// instead; compatible changes are listed too, so a reviewer sees the whole difference.
import { schemaBreaks, type BreakKind, type SchemaBreak } from './check-contracts-schema-diff.ts';
import type { EventSnapshot, ModuleContracts, OperationSnapshot } from './check-contracts-snapshot.ts';

export interface ContractChange {
  breaking: boolean;
  module: string;
  /** `operation charge input`, `operation charge`, `errors`, `event OrderCancelled.v1`. */
  subject: string;
  /** JSON path inside the payload, when the change is inside a schema. */
  path?: string;
  what: string;
  /** What to do instead (breaking changes only). */
  instead?: string;
}

const RECORD_IT = 'record it with --update-snapshot --reason';

export function compareContracts(previous: ModuleContracts, next: ModuleContracts): ContractChange[] {
  const changes: ContractChange[] = [];
  for (const module of union(Object.keys(previous), Object.keys(next))) {
    const before = previous[module];
    const after = next[module];
    changes.push(...compareOperations(module, before?.operations ?? {}, after?.operations ?? {}));
    changes.push(...compareErrors(module, before?.errors ?? [], after?.errors ?? []));
  }
  changes.push(...compareEvents(previous, next));
  return changes;
}

function compareOperations(module: string, before: Record<string, OperationSnapshot>, after: Record<string, OperationSnapshot>): ContractChange[] {
  const changes: ContractChange[] = [];
  for (const name of union(Object.keys(before), Object.keys(after))) {
    const subject = `operation ${name}`;
    const old = before[name];
    const now = after[name];
    if (!now) {
      changes.push({
        breaking: true,
        module,
        subject,
        what: 'operation removed',
        instead: `keep ${name} (say it is deprecated in its description) until no deployable calls it, then remove it and ${RECORD_IT}`,
      });
      continue;
    }
    if (!old) {
      changes.push({ breaking: false, module, subject, what: 'new operation' });
      continue;
    }
    if (old.idempotent && !now.idempotent) {
      changes.push({
        breaking: true,
        module,
        subject,
        what: 'no longer idempotent, but callers built against it retry it',
        instead: `keep ${name} safe to repeat, or add a new operation beside it that is not`,
      });
    } else if (!old.idempotent && now.idempotent) {
      changes.push({ breaking: false, module, subject, what: 'now idempotent (callers may retry it once every provider is deployed)' });
    }
    changes.push(...schemaChanges(module, `${subject} input`, schemaBreaks(now.input, old.input, 'input'), (b) => inputAdvice(name, b.kind), same(old.input, now.input)));
    changes.push(...schemaChanges(module, `${subject} output`, schemaBreaks(old.output, now.output, 'output'), (b) => outputAdvice(name, b.kind), same(old.output, now.output)));
  }
  return changes;
}

function compareErrors(module: string, before: string[], after: string[]): ContractChange[] {
  const changes: ContractChange[] = [];
  const now = new Set(after);
  const old = new Set(before);
  for (const code of before) {
    if (!now.has(code)) {
      changes.push({
        breaking: true,
        module,
        subject: 'errors',
        what: `error code ${code} removed`,
        instead: `keep declaring ${code}: deployables built against the old contract still raise it, and callers lose its type`,
      });
    }
  }
  for (const code of after) if (!old.has(code)) changes.push({ breaking: false, module, subject: 'errors', what: `new error code ${code}` });
  return changes;
}

function compareEvents(previous: ModuleContracts, next: ModuleContracts): ContractChange[] {
  const before = eventsByKey(previous);
  const after = eventsByKey(next);
  const changes: ContractChange[] = [];
  for (const key of union([...before.keys()], [...after.keys()])) {
    const old = before.get(key);
    const now = after.get(key);
    if (old && !now) {
      changes.push({
        breaking: true,
        module: old.module,
        subject: `event ${key}`,
        what: 'event version removed',
        instead: `keep publishing ${key} beside its successor until no module subscribes to it and none is left in an outbox or dead-letter store, then ${RECORD_IT}`,
      });
    } else if (now && !old) {
      const siblings = [...before.values()].filter((e) => e.event.type === now.event.type);
      changes.push({ breaking: false, module: now.module, subject: `event ${key}`, what: siblings.length > 0 ? 'new version beside the old' : 'new event' });
    } else if (old && now) {
      // Consumers on both sides of a deploy read this version: new ones read stored events,
      // old ones read what the new publisher sends. It must satisfy both.
      const breaks = dedupe([...schemaBreaks(now.event.schema, old.event.schema, 'event-replay'), ...schemaBreaks(old.event.schema, now.event.schema, 'event-forward')]);
      const { type, version } = now.event;
      changes.push(
        ...schemaChanges(
          now.module,
          `event ${key}`,
          breaks,
          () => `publish ${type} v${version + 1} with the new schema beside v${version}, and keep publishing v${version} until its consumers moved`,
          same(old.event.schema, now.event.schema),
        ),
      );
    }
  }
  return changes;
}

function schemaChanges(module: string, subject: string, breaks: SchemaBreak[], advice: (b: SchemaBreak) => string, unchanged: boolean): ContractChange[] {
  if (breaks.length === 0) return unchanged ? [] : [{ breaking: false, module, subject, what: 'schema changed compatibly' }];
  return breaks.map((b) => ({ breaking: true, module, subject, path: b.path, what: b.what, instead: advice(b) }));
}

function inputAdvice(op: string, kind: BreakKind): string {
  if (kind === 'required') return `make the field optional (with a default) so callers that do not send it still succeed, or add a new operation beside ${op}`;
  if (kind === 'unprovable') return `express the rule with schema keywords the check understands, or, if callers are unaffected, ${RECORD_IT}`;
  return `keep accepting what callers send today, or add a new operation beside ${op} with the narrower input and move callers to it`;
}

function outputAdvice(op: string, kind: BreakKind): string {
  if (kind === 'removed' || kind === 'required') return `keep sending the field (mark it deprecated in its description) until no caller reads it, or add a new operation beside ${op}`;
  if (kind === 'unprovable') return `express the rule with schema keywords the check understands, or, if callers are unaffected, ${RECORD_IT}`;
  return `keep the answer within what callers accept today; put new values in a new optional field or a new operation beside ${op}`;
}

export function formatChange(c: ContractChange): string {
  const where = [c.module, c.subject, c.path].filter(Boolean).join(' ');
  return c.breaking ? `${where}: ${c.what}. Instead: ${c.instead}.` : `${where}: ${c.what}`;
}

function eventsByKey(contracts: ModuleContracts): Map<string, { module: string; event: EventSnapshot }> {
  const byKey = new Map<string, { module: string; event: EventSnapshot }>();
  for (const [module, m] of Object.entries(contracts)) for (const [key, event] of Object.entries(m.events)) byKey.set(key, { module, event });
  return byKey;
}

function dedupe(breaks: SchemaBreak[]): SchemaBreak[] {
  const seen = new Set<string>();
  return breaks.filter((b) => {
    const k = `${b.path}\0${b.what}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
