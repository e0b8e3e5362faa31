// Start-up hook, imported before everything else: Node's on-disk compile cache. The first start
// stores, per source file, its TypeScript stripped of types and V8's compiled code; a later start
// of the same files reads them back instead of stripping and compiling again (about a fifth of a
// warm start's CPU time). Entries are keyed by the file's content and Node's version, so a
// changed file is compiled afresh. The cache lives in NODE_COMPILE_CACHE if set, else in the OS
// temp dir; a cache that cannot be written only costs the saving. Measured in docs/benchmarks.md
// (kernel section). `npm start` and `npm run service` turn it on earlier still, before the entry
// file is read (compile-cache-preload.mjs); this hook then finds it on, and covers a plain
// `node src/main.ts`.
import { constants, enableCompileCache } from 'node:module';
import { markStartupHook } from './startup-hooks.ts';

const cache = enableCompileCache();
if (cache.status === constants.compileCacheStatus.ENABLED || cache.status === constants.compileCacheStatus.ALREADY_ENABLED) {
  // Worker threads (SQLite's checkpointer) start with this environment: they use the cache too,
  // and skip loading a TypeScript stripper of their own.
  if (cache.directory) process.env.NODE_COMPILE_CACHE ??= cache.directory;
  markStartupHook('compile-cache');
}
