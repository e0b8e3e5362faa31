// The monolith's entry (`npm start`): every module in one process. See monolith.ts.
import './platform/kernel/load-drizzle-as-commonjs.ts';

await import('./monolith.ts');
