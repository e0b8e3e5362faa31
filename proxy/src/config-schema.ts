// The proxy's config file format, validated with zod. Scripts (e.g. `npm run extract`) import this
// schema to edit the file safely; nothing here may import from src/ (the proxy deploys on its own).
import { z } from 'zod';

const baseUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');

const method = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']));

export const healthCheckSchema = z
  .object({
    path: z.string().startsWith('/').default('/health/ready'),
    intervalMs: z.number().int().min(50).default(2000),
    timeoutMs: z.number().int().min(10).default(1000),
    // Consecutive failures (probe or connect errors) that take an instance out, and successes that bring it back.
    unhealthyAfter: z.number().int().min(1).default(2),
    healthyAfter: z.number().int().min(1).default(1),
  })
  .strict();

export const poolSchema = z
  .object({
    instances: z.array(baseUrl).min(1),
    balance: z.enum(['round-robin', 'least-connections']).default('round-robin'),
    healthCheck: healthCheckSchema.default(() => healthCheckSchema.parse({})),
  })
  .strict();

export const shadowSchema = z
  .object({
    // Share of matching requests (0–100) also sent to the other side; the user always gets the primary answer.
    percent: z.number().min(0).max(100),
    methods: z.array(method).default(['GET', 'HEAD']),
    // Field names (any depth) or dotted paths (`items.*.id`) left out of the JSON comparison.
    ignoreFields: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const canaryStepSchema = z
  .object({
    weight: z.number().int().min(0).max(100),
    dwellMs: z.number().int().min(100),
  })
  .strict();

export const canarySchema = z
  .object({
    steps: z.array(canaryStepSchema).min(1),
    // Bounds of the new side relative to the old side over a step.
    maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
    maxP99Ratio: z.number().min(1).default(1.5),
    // Absolute slack so a 1 ms → 2 ms p99 on an idle route is not called a breach.
    p99SlackMs: z.number().min(0).default(5),
    // A step is judged only once the new side has seen this many requests in it.
    minRequests: z.number().int().min(1).default(20),
    autoStart: z.boolean().default(false),
  })
  .strict();

export const authSchema = z
  .object({
    required: z.boolean().default(true),
    scope: z.string().min(1).optional(),
  })
  .strict();

export const rateLimitSchema = z
  .object({
    // Token bucket per client (JWT subject, else client address).
    capacity: z.number().int().min(1),
    refillPerSecond: z.number().positive(),
  })
  .strict();

export const routeSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
    prefix: z.string().startsWith('/'),
    methods: z.array(method).optional(),
    // The pool that served the route before (the monolith). Left out once the module is remote:
    // then `new` serves every request, and no fallback, weight or rollback sends any to `old`.
    old: z.string().min(1).optional(),
    new: z.string().min(1),
    // Share (0–100) of users sent to the `new` pool; default 0, and 100 for a route without `old`.
    weight: z.number().int().min(0).max(100).optional(),
    shadow: shadowSchema.optional(),
    canary: canarySchema.optional(),
    auth: authSchema.optional(),
    rateLimit: rateLimitSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.old !== undefined) return;
    const only = `route "${r.name}" has no old side: every request goes to "${r.new}"`;
    if (r.weight !== undefined && r.weight !== 100) ctx.addIssue({ code: 'custom', path: ['weight'], message: `${only}; leave weight out or set it to 100` });
    if (r.canary) ctx.addIssue({ code: 'custom', path: ['canary'], message: `${only}, so there is nothing to shift` });
    if (r.shadow) ctx.addIssue({ code: 'custom', path: ['shadow'], message: `${only}, so there is nothing to compare with` });
  })
  .transform((r) => ({ ...r, weight: r.weight ?? (r.old === undefined ? 100 : 0) }));

export const proxyConfigSchema = z
  .object({
    pools: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/), poolSchema),
    defaultPool: z.string().min(1).default('monolith'),
    routes: z.array(routeSchema).default([]),
    rateLimit: rateLimitSchema.optional(),
    // Header a tester sets to `old` or `new` (any case) to force a side. Honoured only for a caller
    // whose verified token has the `tester` scope (or `admin`), or who sends `overrideSecret` in the
    // header of the same name plus `-secret` (x-proxy-side-secret); anyone else is routed by weight.
    overrideHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name').transform((h) => h.toLowerCase()).default('x-proxy-side'),
    overrideSecret: z.string().min(16, 'at least 16 characters').optional(),
    stickyCookie: z.string().min(1).default('proxy_uid'),
    // Largest request body buffered so an Idempotency-Key request can be replayed on the other side.
    maxReplayBodyBytes: z.number().int().min(0).default(1_048_576),
    upstreamTimeoutMs: z.number().int().min(1).default(30_000),
    // How long a new connection to an instance (TCP, and TLS for https) may take before the
    // instance counts as unreachable: safe requests then fall back, and it counts towards ejection.
    connectTimeoutMs: z.number().int().min(1).default(3_000),
    // Set → every forwarded answer carries this header saying which side served it (`old` or
    // `new`). Off by default: it tells clients something about the migration.
    servedByHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name').transform((h) => h.toLowerCase()).optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const pools = new Set(Object.keys(cfg.pools));
    if (!pools.has(cfg.defaultPool)) {
      ctx.addIssue({ code: 'custom', path: ['defaultPool'], message: `names unknown pool "${cfg.defaultPool}"` });
    }
    const names = new Set<string>();
    cfg.routes.forEach((r, i) => {
      if (names.has(r.name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicate route name "${r.name}"` });
      names.add(r.name);
      for (const side of ['old', 'new'] as const) {
        const pool = r[side];
        if (pool !== undefined && !pools.has(pool)) ctx.addIssue({ code: 'custom', path: ['routes', i, side], message: `names unknown pool "${pool}"` });
      }
    });
  });

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
/** The file's shape before defaults are applied (what a script writes). */
export type ProxyConfigInput = z.input<typeof proxyConfigSchema>;
export type PoolConfig = ProxyConfig['pools'][string];
export type RouteConfig = ProxyConfig['routes'][number];
export type CanaryConfig = NonNullable<RouteConfig['canary']>;
export type ShadowConfig = NonNullable<RouteConfig['shadow']>;
export type RateLimitConfig = NonNullable<ProxyConfig['rateLimit']>;
