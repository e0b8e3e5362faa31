// Configuration comes from the environment, is validated once at start, and a bad value stops the
// process with one line per problem instead of failing later at first use. This file holds what
// the platform itself needs; a module declares its own settings beside its code (defineModule's
// `settings`), and the kernel validates both together (settings.ts).
import { z } from 'zod';
import { DEFAULT_MAX_LIFETIME_SECONDS, developmentKeys } from '../../../lib/trust/index.ts';

export const port = z.coerce.number().int().min(0).max(65535);
export const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.join(' or ')}//`);

/** BUS_GATHER_MS unless set (docs/bus.md: what it trades). */
const GATHER_DEFAULT_MS = 50;

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: port.default(3000),
    /** Default: loopback outside production (nothing else on the network reaches a developer's app), all interfaces in production. */
    HOST: z.string().min(1).optional(),
    /** Contract endpoints, /metrics and admin routes: never on the public port. Default PORT + 1000 (0 when PORT is 0). */
    INTERNAL_PORT: port.optional(),
    INTERNAL_HOST: z.string().min(1).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    BUS: z.enum(['inprocess', 'bullmq']).default('inprocess'),
    REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_JWKS_URL: url(['http:', 'https:']).optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    JWT_MAX_LIFETIME_SECONDS: z.coerce.number().int().positive().default(DEFAULT_MAX_LIFETIME_SECONDS),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb').default('100kb'),
    /** Deepest nesting of arrays and objects a JSON body may have; deeper is refused before parsing. */
    JSON_MAX_DEPTH: z.coerce.number().int().min(2).max(1000).default(32),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    SEED: z.enum(['true', 'false']).optional(),
    /** false: modules connect with DATABASE_URL itself instead of their own roles (no isolation). */
    PG_MODULE_ROLES: z.enum(['true', 'false']).default('true'),
    /** Module roles are `<prefix>_<module>`; default `<database>_module`, so two databases on one cluster never share a role. */
    PG_ROLE_PREFIX: z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be lower-case letters, digits and underscores, at most 41').optional(),
    PG_POOL_MAX: z.coerce.number().int().min(1).max(100).default(4),
    /**
     * How long a unit of work's callback may run, on either engine, before it fails with
     * UnitTimedOut and nothing of it is kept: a unit holds SQLite's writer or a pooled connection.
     */
    UNIT_OF_WORK_TIMEOUT_MS: z.coerce.number().int().min(1000).max(2_147_483_647).default(30_000),
    BUS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('bus'),
    BUS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    BUS_RETRY_DELAY_MS: z.coerce.number().int().min(1).default(100),
    BUS_POLL_MS: z.coerce.number().int().min(10).default(500),
    /**
     * While events keep coming, a module's relay starts a pass (read, deliver, mark) at most once
     * in this many ms, so its events go in fewer, larger batches; a kick after a quiet spell starts
     * one at once. What an event may wait under load, for fewer outbox reads, marks and broker jobs.
     */
    BUS_GATHER_MS: z.coerce.number().int().min(0).max(1000).default(GATHER_DEFAULT_MS),
    BUS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
    BUS_INBOX_RETENTION_DAYS: z.coerce.number().int().min(8).default(14),
    /** Sent outbox rows written longer ago than this are pruned hourly, but for the events their module keeps. */
    BUS_OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).default(14),
    BUS_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
    /** Events one BullMQ job carries at most; 1 keeps the one-envelope jobs versions before batching read. */
    BUS_EVENTS_PER_JOB: z.coerce.number().int().min(1).max(500).default(50),
    IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().positive().default(24 * 3600),
    TOPOLOGY_FILE: z.string().min(1).default('./topology.json'),
    // Remote contracts: service credentials and the resilience policy per remote module.
    SERVICE_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    MONOLITH_URLS: z.string().min(1).optional(),
    // Above the slowest contract's own worst case (payments: its provider timeout × attempts + backoff).
    REMOTE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
    REMOTE_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    REMOTE_BACKOFF_MS: z.coerce.number().int().positive().default(50),
    REMOTE_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
    REMOTE_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(5_000),
    REMOTE_BULKHEAD: z.coerce.number().int().min(1).default(64),
    REMOTE_BULKHEAD_QUEUE: z.coerce.number().int().min(0).default(256),
    REMOTE_MAX_SOCKETS: z.coerce.number().int().min(1).default(32),
    /** Calls of an idempotent operation made in the same event-loop turn that leave as one request; 1 sends each alone. At most the callee's limit (256). */
    REMOTE_BATCH_MAX: z.coerce.number().int().min(1).max(256).default(64),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production (or set JWT_JWKS_URL)' });
    }
    const internal = env.INTERNAL_PORT ?? (env.PORT === 0 ? 0 : env.PORT + 1000);
    if (internal > 65535) ctx.addIssue({ code: 'custom', path: ['INTERNAL_PORT'], message: `PORT + 1000 is past 65535: set INTERNAL_PORT` });
    else if (internal !== 0 && internal === env.PORT) ctx.addIssue({ code: 'custom', path: ['INTERNAL_PORT'], message: 'must differ from PORT: internal endpoints never share the public port' });
  });

export type Env = z.output<typeof schema>;

export interface Config extends Omit<Env, 'HOST' | 'INTERNAL_PORT' | 'INTERNAL_HOST'> {
  HOST: string;
  INTERNAL_PORT: number;
  INTERNAL_HOST: string;
  /** Verifies end-user tokens (HS256); absent only when JWT_JWKS_URL verifies them instead. */
  jwtSecret: string | undefined;
  /** Signs and checks service-to-service credentials; absent in production unless SERVICE_JWT_SECRET is set. */
  serviceJwtSecret?: string;
  /** `environment`, or `development-file` when the keys come from DATA_DIR/dev-keys.json. */
  keySource: 'environment' | 'development-file';
  /** MODULE_<NAME>_URLS overrides, by module name (lower case): where a module's instances live. */
  moduleUrls: Record<string, string>;
  /** sqlite when DATABASE_URL is absent: the embedded default, with migrations applied on start. */
  storeEngine: 'sqlite' | 'pg';
  seed: boolean;
  production: boolean;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Empty strings are treated as unset, as shells and .env files often leave them. */
export function cleanEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

/** One line per bad variable, its value shown unless it is a secret. */
export function describeIssues(error: z.ZodError, source: NodeJS.ProcessEnv): string[] {
  return error.issues.map((i) => {
    const name = i.path.join('.');
    const value = source[name];
    return `${name}: ${i.message}${value !== undefined ? ` (got ${JSON.stringify(/SECRET|PASSWORD/.test(name) ? '***' : value)})` : ''}`;
  });
}

/** Reads and checks the platform's environment; throws ConfigError listing every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const env = cleanEnv(source);
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(describeIssues(result.error, source));
  const e = result.data;
  const moduleUrls: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^MODULE_([A-Z0-9_]+)_URLS$/.exec(key);
    if (m && value) moduleUrls[m[1]!.toLowerCase().replace(/_/g, '-')] = value;
  }
  const production = e.NODE_ENV === 'production';
  const storeEngine = e.DATABASE_URL ? 'pg' : 'sqlite';
  const HOST = e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1');
  // Outside production a key that is not given comes from DATA_DIR/dev-keys.json (made on first use):
  // never from the source, where anyone could read it and mint tokens for every installation.
  const needsDevKeys = !production && ((!e.JWT_SECRET && !e.JWT_JWKS_URL) || !e.SERVICE_JWT_SECRET);
  const dev = needsDevKeys ? developmentKeys(e.DATA_DIR) : undefined;
  const jwtSecret = e.JWT_SECRET ?? (e.JWT_JWKS_URL ? undefined : dev?.jwtSecret);
  return {
    ...e,
    HOST,
    INTERNAL_PORT: e.INTERNAL_PORT ?? (e.PORT === 0 ? 0 : e.PORT + 1000),
    INTERNAL_HOST: e.INTERNAL_HOST ?? HOST,
    jwtSecret,
    serviceJwtSecret: e.SERVICE_JWT_SECRET ?? dev?.serviceSecret,
    keySource: dev && (jwtSecret === dev.jwtSecret || !e.SERVICE_JWT_SECRET) ? 'development-file' : 'environment',
    moduleUrls,
    storeEngine,
    seed: e.SEED ? e.SEED === 'true' : storeEngine === 'sqlite',
    production,
  };
}
