// Start-up speed (a twelve-factor app starts fast). Node 24's ES-module loader re-reads
// drizzle-orm's 178 KB package.json for every one of the hundreds of drizzle files it loads, which
// costs seconds and over 100 MB at start; its CommonJS build loads the same code reading that file
// once. Entry points import this first, then load the app with a dynamic import so the hook
// applies to it. Measured in docs/benchmarks.md (kernel section).
import { registerHooks } from 'node:module';
import { markStartupHook } from './startup-hooks.ts';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) {
      return next(specifier, { ...context, conditions: ['require', 'node', 'default'] });
    }
    return next(specifier, context);
  },
});
markStartupHook('drizzle-as-commonjs');
