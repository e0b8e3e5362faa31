// Preloaded by `npm start` and `npm run service` (`node --import`), before the entry file is read:
// Node's compile cache is on before any TypeScript is loaded, so a warm start finds even the
// entry file's stripped source in the cache and never loads Node's TypeScript stripper (~17 MB
// resident: a WebAssembly module and its memory). Plain JavaScript on purpose: a .ts file here
// would be stripped, loading the stripper, before the cache could serve it. The entry's first
// start-up hook (compile-cache.ts) finds the cache on and passes it to worker threads.
import { enableCompileCache } from 'node:module';

enableCompileCache();
