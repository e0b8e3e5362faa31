// A module, declared once: its public manifest, its own settings (environment variables only it
// reads), its tables, and a setup that returns its parts — contract handlers, routes, event
// subscriptions, scheduled jobs, start/stop — plus one-off admin commands. `module.ts` exports it
// as its default; only composition roots (src/*-root.ts) import module.ts, so an extracted
// service's bundle carries one module's implementation and every module's manifest.
import type { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { ModuleStore } from '../data/module-store.ts';
import type { ModuleSchema, PlatformTables } from '../data/schema-kit.ts';
import type { Contract, ContractApi, ContractHandlers } from '../contracts/define-contract.ts';
import type { EventDefinition, EventPayload } from '../bus/define-event.ts';
import type { EventEnvelope } from '../bus/envelope.ts';
import type { RunUnitOfWork, UnitOfWork } from '../bus/unit-of-work.ts';
import type { Clock } from './clock.ts';
import type { ModuleManifest } from './manifest.ts';

export type Settings<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

export interface ModuleContext<T extends Record<string, unknown>, S = Record<string, unknown>> {
  readonly name: string;
  /** The platform's configuration (ports, engine, bus…); the module's own is `settings`. */
  readonly config: Config;
  /** This module's settings, validated at start together with the platform's. */
  readonly settings: S;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The time as this module sees it: the system clock, or a test's controllable one. */
  readonly clock: Clock;
  /** This module's own store, and no other. */
  readonly store: ModuleStore<T & PlatformTables>;
  /** Runs writes atomically together with the events they publish. */
  readonly unitOfWork: RunUnitOfWork;
  /** Another module's contract, in-process or remote: the caller cannot tell and need not care. */
  contract<C extends Contract>(contract: C): ContractApi<C>;
}

export interface Subscription<E extends EventDefinition = EventDefinition> {
  event: E;
  /** Runs inside the subscriber's unit of work, after its inbox has recorded the event id. */
  handle(payload: EventPayload<E>, uow: UnitOfWork, envelope: EventEnvelope): Promise<void>;
}

export function on<E extends EventDefinition>(event: E, handle: Subscription<E>['handle']): Subscription {
  // A subscription list holds handlers of different events; each keeps its own payload type here.
  return { event, handle } as unknown as Subscription;
}

/**
 * Periodic work the kernel runs for the module: never two runs of one job at once, failures
 * logged and counted, stopped before the store closes. A test harness can run a job on demand.
 */
export interface Job {
  name: string;
  everyMs: number;
  /**
   * The first run's delay, when it must come sooner than `everyMs`: a process that restarts more
   * often than that (deploys, scaling) would otherwise never run the job at all.
   */
  firstRunMs?: number;
  /**
   * One run. `stopping` is aborted when the process stops: a run that goes in steps (batches)
   * should end after the step in hand, as stop waits for it before the stores close.
   */
  run(stopping: AbortSignal): Promise<unknown>;
}

export interface ModuleParts<C extends Contract | undefined> {
  handlers?: C extends Contract ? ContractHandlers<C> : never;
  /** Public REST routes; paths are absolute (`/api/v1/...`) and lie under the manifest's publicPaths. */
  routes?: Router;
  subscriptions?: Subscription[];
  jobs?: Job[];
  /** Demo data for a newcomer's first embedded start; must be idempotent. */
  seed?(): Promise<void>;
  start?(): Promise<void>;
  /**
   * Shutdown has begun: called before the listeners wait for requests in flight, so a module can
   * answer requests it holds open (long-polls) at once instead of keeping the drain waiting.
   */
  draining?(): void;
  stop?(): Promise<void>;
}

/** What a one-off admin command of a module runs with: its own store, outside any app. */
export interface CommandContext<T extends Record<string, unknown>, S = Record<string, unknown>> {
  readonly config: Config;
  readonly settings: S;
  readonly logger: Logger;
  readonly store: ModuleStore<T & PlatformTables>;
}

export interface ModuleDeclaration<M extends ModuleManifest, T extends Record<string, unknown>, S extends z.ZodRawShape> {
  readonly manifest: M;
  /** Environment variables only this module reads, with their defaults. */
  readonly settings?: S;
  readonly schema: ModuleSchema<T>;
  /**
   * Events this module publishes and replays from its own outbox (a projection rebuilt from them):
   * they stay there for good, where other sent events are pruned after BUS_OUTBOX_RETENTION_DAYS.
   * List every version still to replay, retired ones too: a version left out is pruned.
   */
  readonly keepsEvents?: readonly EventDefinition[];
  setup(ctx: ModuleContext<T, Settings<S>>): ModuleParts<M['contract']> | Promise<ModuleParts<M['contract']>>;
  /** One-off admin commands (`node scripts/module-command.ts <module> <command>`); each answers a line to print. */
  readonly commands?: Record<string, (ctx: CommandContext<T, Settings<S>>) => Promise<string>>;
}

/** A declared module as the kernel holds it, whatever its tables and settings. */
export interface Module {
  readonly manifest: ModuleManifest;
  readonly schema: ModuleSchema;
  /** Validates the module's settings from the environment. */
  readonly settings: z.ZodObject;
  /** Keys (`OrderPlaced.v1`) of the events kept in the outbox past the retention. */
  readonly keptEvents: readonly string[];
  setup(ctx: ModuleContext<Record<string, unknown>>): Promise<ModuleParts<Contract | undefined>>;
  readonly commands: Readonly<Record<string, (ctx: CommandContext<Record<string, unknown>>) => Promise<string>>>;
}

export function defineModule<M extends ModuleManifest, T extends Record<string, unknown>, S extends z.ZodRawShape = Record<never, never>>(
  declaration: ModuleDeclaration<M, T, S>,
): Module {
  const settings = z.object(declaration.settings ?? ({} as S));
  // By type, not version: a version no longer published may still be kept, for the rows of it
  // stored before the newer one (a projection rebuilt from them needs every version it ever saw).
  const published = new Set(declaration.manifest.publishes.map((e) => e.type));
  for (const e of declaration.keepsEvents ?? []) {
    if (!published.has(e.type)) throw new Error(`module ${declaration.manifest.name} keeps ${e.key} in its outbox but publishes no ${e.type}`);
  }
  // The kernel builds every context from this module's own schema and settings object, so the
  // erased types it passes are exactly the declared ones: this is the one place they are narrowed.
  const narrow = <C>(ctx: unknown) => ctx as C;
  return {
    manifest: declaration.manifest,
    schema: declaration.schema as ModuleSchema,
    settings,
    keptEvents: (declaration.keepsEvents ?? []).map((e) => e.key),
    setup: async (ctx) => (await declaration.setup(narrow(ctx))) as ModuleParts<Contract | undefined>,
    commands: Object.fromEntries(Object.entries(declaration.commands ?? {}).map(([name, run]) => [name, (ctx: unknown) => run(narrow(ctx))])),
  };
}
