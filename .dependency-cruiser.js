// Module boundaries, enforced by `npm run check:boundaries` (and CI). Each rule's comment is what
// a developer sees when they break it: what is wrong and what to do instead.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'module-internals-are-private',
      comment:
        "A module may use another module only through that module's index.ts (its contract, events and manifest). " +
        'Import from src/modules/<other>/index.ts instead, or ask that module to add what you need to its contract.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'platform-knows-no-module',
      comment: 'src/platform/ is a toolbox for every module and must not import any of them. Move the code into the module, or make the platform take it as a parameter.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'proxy-is-its-own-deployable',
      comment: 'proxy/ is deployed on its own and must not import anything from src/. Copy the small piece it needs into proxy/, or talk to the app over HTTP.',
      severity: 'error',
      from: { path: '^proxy/' },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      comment: 'This import closes a dependency cycle. Break it: depend on a contract or react to an event instead of importing back.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'production-does-not-import-tests',
      comment: 'Production code must not import test code (*.test.ts, test/). Move the shared piece into production code, or keep it in the test.',
      severity: 'error',
      from: { path: '^(src|proxy)/', pathNot: '\\.test\\.ts$' },
      to: { path: ['\\.test\\.ts$', '^test/', '/test/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7's compiler API is not published yet; swc parses the sources for the cruiser.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: ['^node_modules', '^\\.tmp/'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
