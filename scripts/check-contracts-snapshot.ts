// What the compatibility check compares: per module, each contract operation (input and output
// schema, whether callers may retry it), the error codes it declares, and each event version it
// publishes. Read from a tree's src/manifests.ts, or from the committed snapshot file, which also
// records why it was last updated and which breaking changes that update accepted.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { jsonSchemaOf, type JsonSchema } from './check-contracts-json-schema.ts';

export interface OperationSnapshot {
  idempotent: boolean;
  input: JsonSchema;
  output: JsonSchema;
}

export interface EventSnapshot {
  type: string;
  version: number;
  schema: JsonSchema;
}

export interface ModuleSnapshot {
  operations: Record<string, OperationSnapshot>;
  errors: string[];
  /** By event key, `OrderPlaced.v1`. */
  events: Record<string, EventSnapshot>;
}

export type ModuleContracts = Record<string, ModuleSnapshot>;

export interface ContractsSnapshot {
  format: 1;
  /** Why the snapshot was last updated, as given to --update-snapshot --reason. */
  reason: string;
  /** The breaking changes that update accepted, one line each (empty when it recorded only compatible ones). */
  accepted: string[];
  modules: ModuleContracts;
}

/**
 * The shape read from a tree's manifests. Kept structural rather than importing ModuleManifest,
 * because a tree checked out at an older ref has its own copies of the platform types.
 */
export interface ManifestShape {
  name: string;
  contract?: {
    operations: Record<string, { input: z.ZodType; output: z.ZodType; idempotent: boolean }>;
    errors: readonly { code: string }[];
  };
  publishes: readonly { type: string; version: number; schema: z.ZodType }[];
}

export function contractsOf(manifests: readonly ManifestShape[]): ModuleContracts {
  const modules: ModuleContracts = {};
  for (const m of [...manifests].sort((a, b) => a.name.localeCompare(b.name))) {
    const operations: Record<string, OperationSnapshot> = {};
    for (const [name, op] of Object.entries(m.contract?.operations ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      operations[name] = { idempotent: op.idempotent, input: jsonSchemaOf(op.input), output: jsonSchemaOf(op.output) };
    }
    const events: Record<string, EventSnapshot> = {};
    for (const e of [...m.publishes].sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version)) {
      events[`${e.type}.v${e.version}`] = { type: e.type, version: e.version, schema: jsonSchemaOf(e.schema) };
    }
    const errors = [...new Set((m.contract?.errors ?? []).map((e) => e.code))].sort();
    modules[m.name] = { operations, errors, events };
  }
  return modules;
}

/** The contracts of the source tree at `root`, from its src/manifests.ts. */
export async function contractsOfTree(root: string): Promise<ModuleContracts> {
  const file = join(root, 'src', 'manifests.ts');
  if (!existsSync(file)) throw new Error(`${file} does not exist: no manifests to read contracts from`);
  const loaded = (await import(pathToFileURL(file).href)) as { manifests?: ManifestShape[] };
  if (!Array.isArray(loaded.manifests)) throw new Error(`${file} exports no \`manifests\` array`);
  return contractsOf(loaded.manifests);
}

const jsonSchema: z.ZodType<JsonSchema> = z.union([z.boolean(), z.record(z.string(), z.unknown())]);
const snapshotFile = z.object({
  format: z.literal(1),
  reason: z.string(),
  accepted: z.array(z.string()),
  modules: z.record(
    z.string(),
    z.object({
      operations: z.record(z.string(), z.object({ idempotent: z.boolean(), input: jsonSchema, output: jsonSchema })),
      errors: z.array(z.string()),
      events: z.record(z.string(), z.object({ type: z.string(), version: z.number().int(), schema: jsonSchema })),
    }),
  ),
});

export function parseSnapshot(text: string, where: string): ContractsSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  const parsed = snapshotFile.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`${where} is not a contracts snapshot: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unexpected shape'}`);
  }
  return parsed.data as ContractsSnapshot;
}

export function readSnapshot(file: string): ContractsSnapshot {
  return parseSnapshot(readFileSync(file, 'utf8'), file);
}

export function writeSnapshot(file: string, snapshot: ContractsSnapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(snapshot, null, 2)}\n`);
}
