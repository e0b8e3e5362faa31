// The proxy's environment, validated at start; every bad variable is named at once.
import { z } from 'zod';

export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

const envSchema = z
  .object({
    NODE_ENV: z.string().optional(),
    PROXY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    PROXY_CONFIG: z.string().min(1).default('proxy/config.json'),
    PROXY_WORKERS: z
      .union([z.literal('auto'), z.coerce.number().int().min(1).max(256)])
      .default(1),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    REDIS_URL: z.string().url().optional(),
    PROXY_REDIS_PREFIX: z.string().min(1).default('proxy:rl:'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production' });
    }
  });

export type ProxyEnv = z.infer<typeof envSchema> & { jwtSecret: string };

export function readProxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment for the proxy:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, jwtSecret: parsed.data.JWT_SECRET ?? DEV_JWT_SECRET };
}
