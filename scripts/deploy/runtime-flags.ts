// The Node options the app's deployables start with (the monolith and every module alone), in one
// place: package.json's `start` and `service` scripts, each image's CMD (dockerfile.ts), the
// service env file's hint (service-env.ts) and docs/deploy.md say the same, and a test holds them
// to it. The strangler proxy is a different program with options of its own (proxy/src/cluster.ts).

/**
 * V8's young generation may grow to 8 MB per semi-space instead of the default 16–32: the
 * start-up burst of allocation grew it to its maximum and V8 keeps the pages, ~30 MB resident
 * with under 1 MB in use once ready. At 8 MB the request path does as many collections' worth of
 * work per request as at the default in the kernel bench; at 4 MB and below it costs CPU per
 * request (measured in docs/benchmarks.md, kernel section).
 */
export const RUNTIME_FLAGS = ['--max-semi-space-size=8'] as const;

/**
 * Started from a checkout only: Node's compile cache on before the entry file is read, so a warm
 * start never loads the TypeScript stripper (src/platform/kernel/compile-cache-preload.mjs), and
 * the cached build's files are compiled once. An image's bundle has no TypeScript to strip.
 */
export const SOURCE_PRELOAD = ['--import', './src/platform/kernel/compile-cache-preload.mjs'] as const;

/** The launcher that runs an entry from its cached build (scripts/start.ts). */
export const START_LAUNCHER = 'scripts/start.ts';

/** The command that starts `entry` in a checkout, as package.json's scripts have it: through its cached build. */
export function checkoutStartCommand(entry: string): string {
  return ['node', ...RUNTIME_FLAGS, ...SOURCE_PRELOAD, START_LAUNCHER, entry].join(' ');
}
