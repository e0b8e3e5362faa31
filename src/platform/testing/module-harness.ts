// One module, alone: booted on its own store with fakes bound to the contracts it calls, a clock
// the test moves, and an in-process bus that lets the test put events into its inbox and wait for
// the events it publishes. What Spring Modulith's @ApplicationModuleTest and Scenario give a Java
// module, for ours:
//
//   const m = await bootModule(ordersModule, { fakes: [fake(paymentsContract, { charge })], clock });
//   const confirmed = await m.scenario()
//     .stimulate(() => m.api('alice').post('/api/v1/orders', { items }))
//     .andWaitForEvent(OrderConfirmed, (p) => p.customerId === 'alice');
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { mintToken } from '../../../lib/trust/index.ts';
import { loadDeployableConfig } from '../config/settings.ts';
import { migrateModules } from '../data/migrate.ts';
import type { Contract, ContractApi } from '../contracts/define-contract.ts';
import type { EventDefinition, EventPayload } from '../bus/define-event.ts';
import { envelopeFor, type EventEnvelope } from '../bus/envelope.ts';
import { runWithContext } from '../context/request-context.ts';
import type { Module } from '../modules/define-module.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { createApp, type ContractFake, type RunningApp } from '../kernel/create-app.ts';
import { resolveTopology, emptyTopology } from '../kernel/topology.ts';
import { manualClock, type ManualClock } from './manual-clock.ts';
import { eventually } from './eventually.ts';

export interface HarnessOptions {
  /** Contracts the module calls, answered by the test (see fake()). */
  fakes?: readonly ContractFake[];
  clock?: ManualClock;
  /** Environment: the module's settings, or DATABASE_URL to run on Postgres (a database of the test's own). */
  env?: Record<string, string>;
}

export interface ModuleHarness {
  readonly app: RunningApp;
  readonly clock: ManualClock;
  readonly store: ModuleStore;
  readonly baseUrl: string;
  /** A JSON client of the module's public routes, as the given user. */
  api(sub: string, scopes?: string[]): JsonClient;
  /** Its own contract (or a faked one), called in-process as another module would. */
  contract<C extends Contract>(contract: C): ContractApi<C>;
  /** Puts an event into the module's inbox, as if the module that owns it had published it; answers its envelope. */
  publish<E extends EventDefinition>(event: E, payload: EventPayload<E>): Promise<EventEnvelope>;
  /** Delivers an envelope again (the broker's at-least-once, a replayed dead letter). */
  deliver(envelope: EventEnvelope): Promise<void>;
  /** Every `event` the module has published so far, oldest first. */
  published<E extends EventDefinition>(event: E): Promise<EventPayload<E>[]>;
  /** Waits for a matching `event`, published already or still to come (what a flow under way leads to). */
  event<E extends EventDefinition>(event: E, match?: (payload: EventPayload<E>) => boolean, o?: WaitOptions): Promise<EventPayload<E>>;
  /** Waits for the first truthy answer of `check`. */
  state<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, o?: WaitOptions): Promise<T>;
  /** Moves the clock, then runs the module's scheduled jobs once (what would have run meanwhile). */
  advance(ms: number): Promise<void>;
  runJobs(): Promise<void>;
  scenario(): Scenario;
  close(): Promise<void>;
}

export interface JsonClient {
  get(path: string): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  patch(path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

export interface WaitOptions {
  /** Deadline in ms (default 15 s): generous, since a loaded machine is slow, never a sleep. */
  within?: number;
}

/** Do something, then wait for what it should lead to. */
export interface Scenario {
  stimulate(action: () => unknown): Expectation;
  publish<E extends EventDefinition>(event: E, payload: EventPayload<E>): Expectation;
  advance(ms: number): Expectation;
}

export interface Expectation {
  /** Resolves with the first matching event published after the stimulus. */
  andWaitForEvent<E extends EventDefinition>(event: E, match?: (payload: EventPayload<E>) => boolean, o?: WaitOptions): Promise<EventPayload<E>>;
  /** Resolves with the first truthy answer of `check`. */
  andWaitForState<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, o?: WaitOptions): Promise<T>;
}

export async function bootModule(module: Module, o: HarnessOptions = {}): Promise<ModuleHarness> {
  const clock = o.clock ?? manualClock();
  const dataDir = mkdtempSync(join(tmpdir(), `module-${module.manifest.name}-`));
  const keys = { JWT_SECRET: randomBytes(32).toString('hex'), SERVICE_JWT_SECRET: randomBytes(32).toString('hex') };
  const env = { LOG_LEVEL: 'silent', SEED: 'false', NODE_ENV: 'test', DATA_DIR: dataDir, ...keys, ...o.env };
  const { config, settings } = loadDeployableConfig([module], env);
  if (config.storeEngine === 'pg') await migrateModules([module.schema], config);
  // The system is the module and the neighbours its fakes stand for; a declared neighbour with no
  // fake is there by name only, and calling it fails as calling a missing module would.
  const faked: ModuleManifest[] = (o.fakes ?? []).map((f) => ({ name: f.contract.name, purpose: 'a test fake', contract: f.contract, publishes: [], subscribes: [], dependsOn: [], publicPaths: [] }));
  const absent: ModuleManifest[] = module.manifest.dependsOn
    .filter((d) => !faked.some((f) => f.name === d))
    .map((name) => ({ name, purpose: 'not part of this test', publishes: [], subscribes: [], dependsOn: [], publicPaths: [] }));
  const neighbours = [...faked, ...absent];
  const app = await createApp({
    config,
    settings,
    manifests: [module.manifest, ...neighbours],
    modules: [module],
    deployable: 'monolith',
    clock,
    fakes: o.fakes,
    topology: resolveTopology(emptyTopology(), config),
  });
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  const store = app.stores.get(module.manifest.name)!;
  const name = module.manifest.name;

  const published = async <E extends EventDefinition>(event: E): Promise<EventPayload<E>[]> => {
    const o2 = store.tables.outbox;
    const rows = await store.db.select({ envelope: o2.envelope }).from(o2).where(eq(o2.type, event.key)).orderBy(o2.seq);
    return rows.map((r) => event.schema.parse(r.envelope.payload) as EventPayload<E>);
  };
  const runJobs = async () => {
    for (const job of jobNames(app, name)) await app.jobs.runNow(name, job);
  };
  const harness: ModuleHarness = {
    app,
    clock,
    store,
    baseUrl,
    api: (sub, scopes = []) => jsonClient(baseUrl, () => mintToken({ sub, scopes, secret: keys.JWT_SECRET })),
    contract: (c) => app.contract(c),
    async publish(event, payload) {
      const envelope = runWithContext({ requestId: 'harness', correlationId: 'harness' }, () => envelopeFor('harness', event, event.schema.parse(payload)));
      await app.bus.transport.deliver([{ envelope, subscribers: [name] }]);
      return envelope;
    },
    async deliver(envelope) {
      await app.bus.transport.deliver([{ envelope, subscribers: [name] }]);
    },
    published,
    event: (event, match = () => true, w = {}) => eventually(async () => (await published(event)).find(match), `${event.key} to be published`, w.within),
    state: (check, w = {}) => eventually(check, 'the expected state', w.within),
    async advance(ms) {
      clock.advance(ms);
      await runJobs();
    },
    runJobs,
    scenario: () => scenario(harness),
    async close() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

function scenario(h: ModuleHarness): Scenario {
  const expectation = (stimulus: () => Promise<unknown>): Expectation => ({
    async andWaitForEvent(event, match = () => true, w = {}) {
      const before = (await h.published(event)).length;
      await stimulus();
      return eventually(async () => (await h.published(event)).slice(before).find(match), `${event.key} to be published`, w.within);
    },
    async andWaitForState(check, w = {}) {
      await stimulus();
      return eventually(check, 'the expected state', w.within);
    },
  });
  return {
    stimulate: (action) => expectation(async () => action()),
    publish: (event, payload) => expectation(() => h.publish(event, payload)),
    advance: (ms) => expectation(() => h.advance(ms)),
  };
}


function jobNames(app: RunningApp, module: string): string[] {
  return app.jobs.names(module);
}

function jsonClient(baseUrl: string, token: () => Promise<string>): JsonClient {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${await token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body, headers) => call('POST', path, body, headers),
    patch: (path, body, headers) => call('PATCH', path, body, headers),
  };
}
