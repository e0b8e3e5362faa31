// Experiment for the kernel bench (`node --import ./scripts/bench/kernel-drizzle-cjs-hook.ts
// src/main.ts`): resolves drizzle-orm to its CommonJS build. Node 24's ESM loader re-reads
// drizzle-orm's 178 KB package.json for each of its files it loads (hundreds), which dominates
// start-up time and memory; the CommonJS loader reads it once. Not used by `npm start` (yet).
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) {
      return next(specifier, { ...context, conditions: ['require', 'node', 'default'] });
    }
    return next(specifier, context);
  },
});
