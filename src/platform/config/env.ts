// Configuration comes from the environment, is validated once at start, and a bad value
// stops the process with one line per problem instead of failing later at first use.
import { z } from 'zod';

export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';
export const DEV_SERVICE_JWT_SECRET = 'dev-only-service-secret-change-me-0123456789';

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.join(' or ')}//`);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    BUS: z.enum(['inprocess', 'bullmq']).default('inprocess'),
    REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_JWKS_URL: url(['http:', 'https:']).optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb').default('100kb'),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    SEED: z.enum(['true', 'false']).optional(),
    /** false: modules connect with DATABASE_URL itself instead of their own roles (no isolation). */
    PG_MODULE_ROLES: z.enum(['true', 'false']).default('true'),
    PG_POOL_MAX: z.coerce.number().int().min(1).max(100).default(4),
    BUS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('bus'),
    BUS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    BUS_RETRY_DELAY_MS: z.coerce.number().int().min(1).default(100),
    BUS_POLL_MS: z.coerce.number().int().min(10).default(500),
    BUS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
    BUS_INBOX_RETENTION_DAYS: z.coerce.number().int().min(8).default(14),
    BUS_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
    IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().positive().default(24 * 3600),
    RESERVATION_TTL_SECONDS: z.coerce.number().int().positive().default(15 * 60),
    PAYMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
    PAYMENT_SLOW_MS: z.coerce.number().int().positive().optional(),
    PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    PAYMENT_BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
    PAYMENT_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(5000),
    PAYMENT_BULKHEAD: z.coerce.number().int().positive().default(16),
    SAGA_POLL_MS: z.coerce.number().int().min(10).default(250),
    SAGA_RETRY_DELAY_MS: z.coerce.number().int().min(1).default(200),
    SAGA_LEASE_MS: z.coerce.number().int().min(100).default(10_000),
    SAGA_DEADLINE_SECONDS: z.coerce.number().int().positive().default(600),
    SNAPSHOT_EVERY: z.coerce.number().int().min(2).default(20),
    TOPOLOGY_FILE: z.string().min(1).default('./topology.json'),
    // Remote contracts: service credentials and the resilience policy per remote module.
    SERVICE_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    MONOLITH_URLS: z.string().min(1).optional(),
    // Above the slowest contract's own worst case (payments: PAYMENT_MAX_ATTEMPTS × PAYMENT_TIMEOUT_MS + backoff).
    REMOTE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
    REMOTE_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    REMOTE_BACKOFF_MS: z.coerce.number().int().positive().default(50),
    REMOTE_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
    REMOTE_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(5_000),
    REMOTE_BULKHEAD: z.coerce.number().int().min(1).default(64),
    REMOTE_BULKHEAD_QUEUE: z.coerce.number().int().min(0).default(256),
    REMOTE_MAX_SOCKETS: z.coerce.number().int().min(1).default(32),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production (or set JWT_JWKS_URL)' });
    }
  });

export type Env = z.output<typeof schema>;

export interface Config extends Env {
  jwtSecret: string;
  /** Signs and checks service-to-service credentials; no default in production (remote calls then refuse to start). */
  serviceJwtSecret?: string;
  /** MODULE_<NAME>_URLS overrides, by module name (lower case): where a module's instances live. */
  moduleUrls: Record<string, string>;
  /** sqlite when DATABASE_URL is absent: the embedded default, with migrations applied on start. */
  storeEngine: 'sqlite' | 'pg';
  seed: boolean;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads and checks the environment; throws ConfigError listing every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are treated as unset, as shells and .env files often leave them.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const name = i.path.join('.');
        const value = source[name];
        return `${name}: ${i.message}${value !== undefined ? ` (got ${JSON.stringify(name.includes('SECRET') ? '***' : value)})` : ''}`;
      }),
    );
  }
  const e = result.data;
  const moduleUrls: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^MODULE_([A-Z0-9_]+)_URLS$/.exec(key);
    if (m && value) moduleUrls[m[1]!.toLowerCase().replace(/_/g, '-')] = value;
  }
  const storeEngine = e.DATABASE_URL ? 'pg' : 'sqlite';
  return {
    ...e,
    jwtSecret: e.JWT_SECRET ?? DEV_JWT_SECRET,
    serviceJwtSecret: e.SERVICE_JWT_SECRET ?? (e.NODE_ENV === 'production' ? undefined : DEV_SERVICE_JWT_SECRET),
    moduleUrls,
    storeEngine,
    seed: e.SEED ? e.SEED === 'true' : storeEngine === 'sqlite',
  };
}
