// Module boundaries, enforced by `npm run check:boundaries` (scripts/check-boundaries.ts, and CI).
// Each rule's comment is what a developer sees when they break it: the rule in plain words, then
// what to do instead. The checks that need the manifests (declared dependsOn, cycles between
// modules as a whole) live in src/platform/boundaries/ and report in the same format.
// Why and how: docs/boundaries.md.

// Test code, wherever it lives: *.test.ts files, a module's test/ folder, the top-level test/.
const TEST_CODE = ['\\.test\\.ts$', '(^|/)test/'];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'module-internals-are-private',
      comment:
        "A module may use another module only through that module's index.ts (its manifest, contract and events). " +
        'Import from src/modules/<other>/index.ts instead, or ask that module to add what you need to its contract or events.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: {
        path: '^src/modules/([^/]+)/',
        // db/ has its own, more specific rule (module-tables-are-private).
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$', '^src/modules/[^/]+/db/'],
      },
    },
    {
      name: 'only-index-is-public',
      comment:
        "Code outside src/modules/ may use a module only through its index.ts; only a composition root (src/*-root.ts) loads a module's module.ts. " +
        'Import src/modules/<name>/index.ts instead, or load the module through src/composition-root.ts.',
      severity: 'error',
      from: { pathNot: '^src/modules/' },
      to: {
        path: '^src/modules/[^/]+/',
        // module.ts and db/ have their own, more specific rules.
        pathNot: ['^src/modules/[^/]+/index\\.ts$', '^src/modules/[^/]+/db/', '^src/modules/[^/]+/module\\.ts$'],
      },
    },
    {
      name: 'module-ts-only-from-composition-root',
      comment:
        "Outside its own module, a module's module.ts (its implementation) is loaded only by a composition root (src/*-root.ts). " +
        'Use the module through its index.ts, or add it to src/composition-root.ts.',
      severity: 'error',
      from: { pathNot: ['^src/[^/]+-root\\.ts$', '^src/modules/'] },
      to: { path: '^src/modules/[^/]+/module\\.ts$' },
    },
    {
      name: 'index-exposes-no-implementation',
      comment:
        "A module's index.ts is its public surface: manifest, contract and events. It must not import or re-export the module's " +
        'implementation (module.ts, app/, db/, http/), or every other module could reach it. ' +
        'Move what others need into contract.ts or events.ts and export it from there.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/index\\.ts$' },
      to: { path: '^src/modules/$1/(module\\.ts$|app/|db/|http/)' },
    },
    {
      name: 'module-tables-are-private',
      comment:
        "A module's tables (its db/ folder) are used only inside that module: each module owns its data. " +
        "Ask the owning module through its contract (src/modules/<owner>/index.ts), or keep a copy of what you need from its events in your own tables.",
      severity: 'error',
      // $1 is the importing module's folder, or empty for code outside src/modules/.
      from: { path: '^(src/modules/[^/]+/|)' },
      to: { path: '^src/modules/[^/]+/db/', pathNot: '^$1db/' },
    },
    {
      name: 'modules-use-their-own-store',
      comment:
        "A module reaches its data only through its own store (ctx.store), never by opening a database driver itself: a driver could open another module's file or schema. " +
        'Use ctx.store.db / ctx.store.transaction in the module, and drizzle-orm query helpers (sql, eq, and) for queries.',
      severity: 'error',
      from: { path: '^src/modules/' },
      to: {
        path: [
          '(^|/)node_modules/(better-sqlite3|pg|pg-pool|postgres|sqlite3)/',
          '(^|/)node_modules/drizzle-orm/(better-sqlite3|node-postgres|postgres-js|libsql|bun-sqlite|sqlite-proxy|pglite)/',
          '^(node:)?sqlite$',
        ],
      },
    },
    {
      name: 'platform-knows-no-module',
      comment:
        'src/platform/ is a toolbox for every module and must not import any of them. ' +
        'Move the code into the module, or make the platform take it as a parameter (as manifests and schemas are passed in).',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'proxy-is-its-own-deployable',
      comment:
        'proxy/ is deployed on its own and must not import anything from src/. ' +
        'Move a piece both need into lib/ (which both may import), or talk to the app over HTTP.',
      severity: 'error',
      from: { path: '^proxy/' },
      to: { path: '^src/' },
    },
    {
      name: 'lib-stands-alone',
      comment:
        'lib/ holds what every deployable shares (the token verifier, development keys): the app and the proxy both import it, ' +
        'so it must import nothing from src/, proxy/ or scripts/. Move what it needs into lib/ as well, or keep the code that needs the app out of lib/.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(src|proxy|scripts)/' },
    },
    {
      name: 'no-circular',
      comment:
        'This import closes a dependency cycle between files. ' +
        'Break it: depend on a contract or react to an event instead of importing back, or move the shared piece into one of the files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'production-does-not-import-tests',
      comment:
        'Production code must not import test code (*.test.ts, test/ folders). ' +
        'Move the shared piece into production code, or keep it in the test.',
      severity: 'error',
      from: { path: '^(lib|src|proxy|scripts)/', pathNot: TEST_CODE },
      to: { path: TEST_CODE },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7's compiler API is not published yet; swc parses the sources for the cruiser and
    // reports type-only imports too, so tsPreCompilationDeps (which needs tsc) is not set.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: ['^node_modules', '^\\.tmp/'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
