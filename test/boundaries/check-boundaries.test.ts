// The boundary check, proven to bite: each kind of violation is planted, one at a time, in a
// temporary copy and the check must fail naming the right rule, the importing and the imported
// file, and saying what to do instead. The plants go into a small tree (the platform plus two
// synthetic modules, alpha and beta) so they do not depend on how the real modules look today;
// the real tree is checked as a whole through the command line. Most plants run the check
// in-process (the same function the command runs) to keep this file fast on two cores.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runBoundaryCheck } from '../../src/platform/boundaries/check.ts';
import { repoRoot } from '../support/processes.ts';

const run = promisify(execFile);
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

type Files = Record<string, string>;

const CONFIGS = ['.dependency-cruiser.js', '.dependency-cruiser-known-violations.json', 'package.json', 'tsconfig.json'];

/** A copy of the given paths of the repository (node_modules linked), with files planted on top. */
function copyOf(paths: string[], files: Files = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'boundaries-'));
  copies.push(dir);
  for (const path of [...paths, ...CONFIGS]) {
    if (existsSync(join(repoRoot, path))) cpSync(join(repoRoot, path), join(dir, path), { recursive: true, filter: (src) => !src.includes('/.tmp') });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  plant(dir, files);
  return dir;
}

/** The platform, the check's command, a one-file proxy, test helpers and the synthetic modules. */
function smallTree(files: Files = {}): string {
  return copyOf(['src/platform', 'scripts/check-boundaries.ts', 'test/support'], {
    '.dependency-cruiser-known-violations.json': '[]\n',
    'proxy/src/main.ts': `export const proxy = 'on its own';\n`,
    ...base(),
    ...files,
  });
}

function plant(dir: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** `npm run check:boundaries` in the copy, as a child process. */
async function checkCommand(dir: string, args: string[] = []): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'scripts/check-boundaries.ts'), ...args], { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const manifest = (name: string, opts: { dependsOn?: string[]; subscribes?: string; imports?: string } = {}) => `
import { defineManifest } from '../../platform/modules/manifest.ts';
import { ${name}Contract } from './contract.ts';
import { ${cap(name)}Happened } from './events.ts';
${opts.imports ?? ''}
export { ${name}Contract } from './contract.ts';
export { ${cap(name)}Happened } from './events.ts';

export const ${name}Manifest = defineManifest({
  name: '${name}',
  purpose: 'synthetic module for the boundary check test',
  contract: ${name}Contract,
  publishes: [${cap(name)}Happened],
  subscribes: [${opts.subscribes ?? ''}],
  dependsOn: ${JSON.stringify(opts.dependsOn ?? [])},
  publicPaths: [],
});
`;

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function syntheticModule(name: string): Files {
  const m = `src/modules/${name}`;
  return {
    [`${m}/index.ts`]: manifest(name),
    [`${m}/contract.ts`]: `import { defineContract } from '../../platform/contracts/define-contract.ts';\nexport const ${name}Contract = defineContract({ name: '${name}', operations: {} });\n`,
    [`${m}/events.ts`]: `import { z } from 'zod';\nimport { defineEvent } from '../../platform/bus/define-event.ts';\nexport const ${cap(name)}Happened = defineEvent('${cap(name)}Happened', 1, z.object({ id: z.string() }));\n`,
    [`${m}/db/schema.ts`]: `export const ${name}Tables = { things: '${name}.things' };\n`,
    [`${m}/app/secret.ts`]: `export const secret = '${name}';\n`,
    [`${m}/app/use.ts`]: `export const use = 1;\n`,
    [`${m}/module.ts`]: `import { ${name}Tables } from './db/schema.ts';\nimport { secret } from './app/secret.ts';\nimport { use } from './app/use.ts';\nexport const ${name}Module = { ${name}Tables, secret, use };\n`,
  };
}

function base(): Files {
  return { ...syntheticModule('alpha'), ...syntheticModule('beta') };
}

interface Plant {
  rule: string;
  what: string;
  files: Files;
  importing: string;
  imported: string;
}

const plants: Plant[] = [
  {
    rule: 'module-internals-are-private',
    what: "a module imports another module's app/ file",
    files: { 'src/modules/beta/app/use.ts': `import { secret } from '../../alpha/app/secret.ts';\nexport const use = secret;\n` },
    importing: 'src/modules/beta/app/use.ts',
    imported: 'src/modules/alpha/app/secret.ts',
  },
  {
    rule: 'module-tables-are-private',
    what: "a module imports another module's db/ tables",
    files: { 'src/modules/beta/app/use.ts': `import { alphaTables } from '../../alpha/db/schema.ts';\nexport const use = alphaTables;\n` },
    importing: 'src/modules/beta/app/use.ts',
    imported: 'src/modules/alpha/db/schema.ts',
  },
  {
    rule: 'module-tables-are-private',
    what: "a script imports a module's db/ tables",
    files: { 'scripts/planted.ts': `import { alphaTables } from '../src/modules/alpha/db/schema.ts';\nconsole.log(alphaTables);\n` },
    importing: 'scripts/planted.ts',
    imported: 'src/modules/alpha/db/schema.ts',
  },
  {
    rule: 'only-index-is-public',
    what: "code outside the modules imports a module's internals",
    files: { 'scripts/planted.ts': `import { secret } from '../src/modules/alpha/app/secret.ts';\nconsole.log(secret);\n` },
    importing: 'scripts/planted.ts',
    imported: 'src/modules/alpha/app/secret.ts',
  },
  {
    rule: 'module-ts-only-from-composition-root',
    what: "a script loads a module's module.ts itself",
    files: { 'scripts/planted.ts': `import { alphaModule } from '../src/modules/alpha/module.ts';\nconsole.log(alphaModule);\n` },
    importing: 'scripts/planted.ts',
    imported: 'src/modules/alpha/module.ts',
  },
  {
    rule: 'modules-use-their-own-store',
    what: 'a module opens a database driver itself',
    files: { 'src/modules/beta/app/use.ts': `import Database from 'better-sqlite3';\nexport const use = new Database(':memory:');\n` },
    importing: 'src/modules/beta/app/use.ts',
    imported: 'node_modules/better-sqlite3/',
  },
  {
    rule: 'index-exposes-no-implementation',
    what: "a module's index.ts re-exports its implementation",
    files: { 'src/modules/alpha/index.ts': manifest('alpha', { imports: `export { secret } from './app/secret.ts';` }) },
    importing: 'src/modules/alpha/index.ts',
    imported: 'src/modules/alpha/app/secret.ts',
  },
  {
    rule: 'platform-knows-no-module',
    what: 'the platform imports a module',
    files: { 'src/platform/planted.ts': `import { alphaManifest } from '../modules/alpha/index.ts';\nexport const planted = alphaManifest;\n` },
    importing: 'src/platform/planted.ts',
    imported: 'src/modules/alpha/index.ts',
  },
  {
    rule: 'proxy-is-its-own-deployable',
    what: 'the proxy imports the app',
    files: { 'proxy/src/planted.ts': `import { defineManifest } from '../../src/platform/modules/manifest.ts';\nexport const planted = defineManifest;\n` },
    importing: 'proxy/src/planted.ts',
    imported: 'src/platform/modules/manifest.ts',
  },
  {
    rule: 'lib-stands-alone',
    what: 'the shared lib imports the app',
    files: { 'lib/trust/planted.ts': `import { defineManifest } from '../../src/platform/modules/manifest.ts';\nexport const planted = defineManifest;\n` },
    importing: 'lib/trust/planted.ts',
    imported: 'src/platform/modules/manifest.ts',
  },
  {
    rule: 'production-does-not-import-tests',
    what: 'production code imports a test helper',
    files: { 'src/platform/planted.ts': `import { eventually } from '../../test/support/eventually.ts';\nexport const planted = eventually;\n` },
    importing: 'src/platform/planted.ts',
    imported: 'test/support/eventually.ts',
  },
  {
    rule: 'no-circular',
    what: "two modules' public surfaces import each other",
    files: {
      'src/modules/alpha/index.ts': manifest('alpha', { dependsOn: ['beta'], imports: `import { betaContract } from '../beta/index.ts';\nexport const uses = betaContract;` }),
      'src/modules/beta/index.ts': manifest('beta', { dependsOn: ['alpha'], imports: `import { alphaContract } from '../alpha/index.ts';\nexport const uses = alphaContract;` }),
    },
    importing: 'src/modules/',
    imported: 'src/modules/',
  },
  {
    rule: 'no-module-cycle',
    what: "two modules call each other's contracts (no file cycle)",
    files: {
      'src/modules/alpha/index.ts': manifest('alpha', { dependsOn: ['beta'] }),
      'src/modules/alpha/app/use.ts': `import { betaContract } from '../../beta/index.ts';\nexport const use = betaContract;\n`,
      'src/modules/beta/index.ts': manifest('beta', { dependsOn: ['alpha'] }),
      'src/modules/beta/app/use.ts': `import { alphaContract } from '../../alpha/index.ts';\nexport const use = alphaContract;\n`,
    },
    importing: 'src/modules/alpha/app/use.ts',
    imported: 'src/modules/beta/index.ts',
  },
  {
    rule: 'undeclared-module-dependency',
    what: "a module calls another's contract without declaring dependsOn",
    files: { 'src/modules/beta/app/use.ts': `import { alphaContract } from '../../alpha/index.ts';\nexport const use = alphaContract;\n` },
    importing: 'src/modules/beta/app/use.ts',
    imported: 'src/modules/alpha/index.ts',
  },
  {
    rule: 'undeclared-module-dependency',
    what: 'a module imports an event it does not subscribe to, without declaring dependsOn',
    files: { 'src/modules/beta/app/use.ts': `import { AlphaHappened } from '../../alpha/index.ts';\nexport const use = AlphaHappened;\n` },
    importing: 'src/modules/beta/app/use.ts',
    imported: 'src/modules/alpha/index.ts',
  },
  {
    rule: 'declared-dependency-unused',
    what: 'a manifest declares a dependency its code does not use',
    files: { 'src/modules/beta/index.ts': manifest('beta', { dependsOn: ['alpha'] }) },
    importing: 'src/modules/beta/index.ts',
    imported: 'src/modules/alpha/index.ts',
  },
  {
    rule: 'module-has-manifest',
    what: 'a module folder exports no manifest',
    files: { 'src/modules/gamma/index.ts': `export const notAManifest = 1;\n` },
    importing: 'src/modules/gamma/index.ts',
    imported: 'src/modules/gamma/index.ts',
  },
];

describe('npm run check:boundaries', () => {
  it('passes on the clean tree', async () => {
    const { code, out } = await checkCommand(copyOf(['src', 'proxy', 'scripts', 'test']));
    expect(out).toContain('module boundaries hold');
    expect(code).toBe(0);
  });

  it('exits non-zero and prints the importing file, the imported file, the rule and the advice', async () => {
    const dir = smallTree({ 'src/modules/beta/app/use.ts': `import { secret } from '../../alpha/app/secret.ts';\nexport const use = secret;\n` });
    const { code, out } = await checkCommand(dir);
    expect(code, out).toBe(1);
    expect(out).toContain('✖ module-internals-are-private\n    importing: src/modules/beta/app/use.ts\n    imported:  src/modules/alpha/app/secret.ts');
    expect(out).toContain("Import from src/modules/<other>/index.ts instead");
  });

  it('passes on the small tree before anything is planted', async () => {
    const outcome = await runBoundaryCheck(smallTree());
    expect(outcome.report).toContain('module boundaries hold');
    expect(outcome.exitCode).toBe(0);
  });

  it('lets a module import the events it subscribes to without declaring dependsOn', async () => {
    const outcome = await runBoundaryCheck(
      smallTree({
        'src/modules/beta/index.ts': manifest('beta', { subscribes: 'AlphaHappened', imports: `import { AlphaHappened } from '../alpha/index.ts';` }),
        'src/modules/beta/app/use.ts': `import { AlphaHappened } from '../../alpha/index.ts';\nexport const use = AlphaHappened.key;\n`,
      }),
    );
    expect(outcome.report).toContain('module boundaries hold');
    expect(outcome.exitCode).toBe(0);
  });

  it.each(plants)('fails with $rule when $what', async ({ rule, files, importing, imported }) => {
    const { exitCode, report: out } = await runBoundaryCheck(smallTree(files));
    expect(exitCode, out).toBe(1);
    const report = out.split('\n\n').find((block) => block.includes(`✖ ${rule}\n`));
    expect(report, out).toBeDefined();
    expect(report).toContain(importing);
    expect(report).toContain(imported);
    // The advice: every rule says what to do instead.
    expect(report).toMatch(/instead|Add |Remove |Break |Move |Ask |Copy |Use /);
  });

  it('fails only on violations newer than the recorded baseline', async () => {
    const dir = smallTree({ 'src/modules/beta/app/use.ts': `import { secret } from '../../alpha/app/secret.ts';\nexport const use = secret;\n` });
    const recorded = await runBoundaryCheck(dir, { writeBaseline: true });
    expect(recorded.report).toMatch(/[1-9]\d* known violation\(s\) recorded/);
    const known = await runBoundaryCheck(dir);
    expect(known.report).toContain('known violation(s)');
    expect(known.exitCode, known.report).toBe(0);

    plant(dir, { 'scripts/planted.ts': `import { secret } from '../src/modules/beta/app/secret.ts';\nconsole.log(secret);\n` });
    const fresh = await runBoundaryCheck(dir);
    expect(fresh.exitCode, fresh.report).toBe(1);
    expect(fresh.report).toContain('✖ only-index-is-public');
    expect(fresh.report).not.toContain('✖ module-internals-are-private');

    // Fixing the old violation is reported, so the baseline can shrink.
    plant(dir, { 'src/modules/beta/app/use.ts': `export const use = 1;\n` });
    expect((await runBoundaryCheck(dir)).report).toContain('are fixed: run npm run check:boundaries:baseline');
  });
});
