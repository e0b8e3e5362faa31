// `npm start` and `npm run service` (`node … scripts/start.ts <entry> [args]`): runs the entry from
// its cached build (scripts/start-cache.ts), making the build first when a source file changed,
// and hands the entry the arguments it would have had if started itself. From source instead:
// - when tracing is exported (OTEL_*): OpenTelemetry patches express, pg and ioredis as they load
//   from node_modules, and a bundle holds its own copies (docs/tracing.md);
// - when the build cannot be made (no esbuild in a production install, a read-only checkout): the
//   start says so on stderr and goes on, only slower.
// `node <entry>` always runs from source.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportRequested } from '../lib/telemetry/tracing-settings.ts';
import { markStartupHook } from '../src/platform/kernel/startup-hooks.ts';
import { buildForStart, freshBuild } from './start-cache.ts';

const root = resolve(import.meta.dirname, '..');
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/start.ts <entry, e.g. src/main.ts> [its arguments]');
  process.exit(64);
}
const source = resolve(root, entry);
process.argv.splice(1, 2, source);

async function built(): Promise<string | undefined> {
  if (exportRequested()) return undefined;
  const fresh = freshBuild(root, entry!);
  if (fresh) return fresh;
  try {
    return await buildForStart(root, entry!);
  } catch (err) {
    console.error(`npm start: could not build ${entry} (${err instanceof Error ? err.message : String(err)}); running it from source`);
    return undefined;
  }
}

const build = await built();
if (build) markStartupHook('cached-build');
await import(pathToFileURL(build ?? source).href);
