// What a kill test of the bus fixtures' deployable (test/fixtures/bus-app.ts, run as a child
// process) needs around it: a store and a Redis prefix of its own, the child's environment, and a
// teardown that kills a child still running before dropping them.
import { prepareStore, type Engine } from './boot.ts';
import { busFixtures } from './fixture-modules.ts';
import { testKeysEnv } from './keys.ts';
import { redisUrl } from './databases.ts';
import { busPrefix } from './redis.ts';
import type { Child } from './processes.ts';

export interface BusAppStage {
  schemas: ReturnType<typeof busFixtures>[number]['schema'][];
  /** The store's own settings (DATABASE_URL or DATA_DIR), for opening it from the test. */
  storeEnv: Record<string, string>;
  prefix: string;
  /** The child's environment: the store, the keys, the bus's Redis under the stage's prefix, `extra` last. */
  env: Record<string, string>;
  /** The child under test, if one runs: killed at teardown. */
  child?: Child;
  /** Also run at teardown, last in first out. */
  cleanups: (() => Promise<void>)[];
  teardown(): Promise<void>;
}

export async function stageBusApp(engine: Engine, extra: Record<string, string>): Promise<BusAppStage> {
  const schemas = busFixtures().map((m) => m.schema);
  const store = await prepareStore(engine, schemas);
  const redis = busPrefix();
  const stage: BusAppStage = {
    schemas,
    storeEnv: store.env,
    prefix: redis.prefix,
    env: {
      ...store.env,
      ...testKeysEnv,
      HOST: '127.0.0.1',
      SEED: 'false',
      LOG_LEVEL: 'warn',
      REDIS_URL: redisUrl(),
      BUS_PREFIX: redis.prefix,
      BUS_RETRY_DELAY_MS: '20',
      // A killed worker's jobs are locked until this expires; keep it short so they come back soon.
      BUS_LOCK_MS: '2000',
      ...extra,
    },
    cleanups: [store.cleanup, redis.cleanup],
    async teardown() {
      const child = stage.child;
      if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      for (const c of stage.cleanups.reverse()) await c().catch(() => {});
    },
  };
  return stage;
}
