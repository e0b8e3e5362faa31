// The proxy's environment, validated at start; every bad variable is named at once. No key is
// written here: outside production the token key comes from JWT_SECRET or, failing that, from the
// development keys generated under DATA_DIR (shared with the app and `npm run token` on the same
// machine); in production a missing key stops the start naming the variable.
import { z } from 'zod';
import { developmentKeys, type VerifierOptions } from '../../lib/trust/index.ts';

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z
  .object({
    NODE_ENV: z.string().optional(),
    PROXY_PORT: port.default(8080),
    // Admin API, /metrics and probes; default PROXY_PORT + 1000 (0 when PROXY_PORT is 0).
    PROXY_INTERNAL_PORT: port.optional(),
    // Default: HOST, else 127.0.0.1 outside production and 0.0.0.0 in production.
    PROXY_HOST: z.string().min(1).optional(),
    HOST: z.string().min(1).optional(),
    PROXY_INTERNAL_HOST: z.string().min(1).optional(),
    PROXY_CONFIG: z.string().min(1).default('proxy/config.json'),
    PROXY_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_JWKS_URL: z.string().url().optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    JWT_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(1).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    REDIS_URL: z.string().url().optional(),
    PROXY_REDIS_PREFIX: z.string().min(1).default('proxy:rl:'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // One JSON line per request at this level, or off.
    PROXY_ACCESS_LOG: z.enum(['info', 'debug', 'off']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production (or set JWT_JWKS_URL)' });
    }
    if (env.PROXY_INTERNAL_PORT === undefined && env.PROXY_PORT + 1000 > 65535) {
      ctx.addIssue({ code: 'custom', path: ['PROXY_INTERNAL_PORT'], message: 'must be set when PROXY_PORT + 1000 is not a port' });
    }
  });

type ParsedEnv = z.infer<typeof envSchema>;

export interface ProxyEnv extends ParsedEnv {
  host: string;
  internalHost: string;
  internalPort: number;
  tokens: VerifierOptions;
  /** Tokens are checked with the generated development key (never in production). */
  developmentKeys: boolean;
}

export function readProxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment for the proxy:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const host = e.PROXY_HOST ?? e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1');
  const useDevelopmentKeys = !e.JWT_SECRET && !e.JWT_JWKS_URL;
  const tokens: VerifierOptions = {
    ...(e.JWT_JWKS_URL ? { jwksUrl: e.JWT_JWKS_URL } : { secret: e.JWT_SECRET ?? developmentKeys(e.DATA_DIR).jwtSecret }),
    ...(e.JWT_ISSUER ? { issuer: e.JWT_ISSUER } : {}),
    ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}),
    ...(e.JWT_MAX_LIFETIME_SECONDS ? { maxLifetimeSeconds: e.JWT_MAX_LIFETIME_SECONDS } : {}),
  };
  return {
    ...e,
    host,
    internalHost: e.PROXY_INTERNAL_HOST ?? host,
    internalPort: e.PROXY_INTERNAL_PORT ?? (e.PROXY_PORT === 0 ? 0 : e.PROXY_PORT + 1000),
    tokens,
    developmentKeys: useDevelopmentKeys,
  };
}
