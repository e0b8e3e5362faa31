// A module's implementation: its store, and a setup function that returns its parts. Only
// composition roots import this (src/composition-root.ts); other modules see the manifest.
import type { Router } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { ModuleStore } from '../data/module-store.ts';
import type { ModuleSchema, PlatformTables } from '../data/schema-kit.ts';
import type { Contract, ContractApi, ContractHandlers } from '../contracts/define-contract.ts';
import type { EventDefinition, EventPayload } from '../bus/define-event.ts';
import type { EventEnvelope } from '../bus/envelope.ts';
import type { RunUnitOfWork, UnitOfWork } from '../bus/unit-of-work.ts';
import type { ModuleManifest } from './manifest.ts';

export interface ModuleContext<T extends Record<string, unknown>> {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
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
  return { event, handle } as unknown as Subscription;
}

export interface ModuleParts<C extends Contract | undefined> {
  handlers?: C extends Contract ? ContractHandlers<C> : never;
  /** Public REST routes; paths are absolute (`/api/v1/...`) and lie under the manifest's publicPaths. */
  routes?: Router;
  subscriptions?: Subscription[];
  /** Demo data for a newcomer's first embedded start; must be idempotent. */
  seed?(): Promise<void>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** What a one-off admin command of a module runs with: its own store, outside any app. */
export interface CommandContext<T extends Record<string, unknown>> {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: ModuleStore<T & PlatformTables>;
}

export interface ModuleDefinition<M extends ModuleManifest = ModuleManifest, T extends Record<string, unknown> = Record<string, unknown>> {
  readonly manifest: M;
  readonly schema: ModuleSchema<T>;
  setup(ctx: ModuleContext<T>): ModuleParts<M['contract']> | Promise<ModuleParts<M['contract']>>;
  /** One-off admin commands (`node scripts/module-command.ts <module> <command>`); each answers a line to print. */
  readonly commands?: Record<string, (ctx: CommandContext<T>) => Promise<string>>;
}

export function defineModule<M extends ModuleManifest, T extends Record<string, unknown>>(
  def: ModuleDefinition<M, T>,
): ModuleDefinition<M, T> {
  return def;
}
