// The self-contained build of one deployable — the monolith, the proxy, or one module's service —
// as esbuild bundles a folder that runs anywhere Node runs, given the few packages it names:
//
//   dist/<entry>.mjs   the deployable (monolith.mjs, proxy.mjs, service.mjs), the same bootstrap as
//                      `npm start` / `npm run proxy` / `npm run service`, and its chunks
//   dist/migrate.mjs   `npm run migrate` for the modules it runs (Postgres is migrated by an admin step)
//   dist/migrations/   the migrations of those modules (the bundle finds them beside itself)
//   dist/console/      the proxy's only: the migration console's page and scripts, served as files
//   package.json       only the packages the bundle cannot hold (see runtimePackages)
//
// A service's bundle holds the platform, its module's implementation and, of the other modules,
// only their public surface (index.ts, contract.ts, events.ts): its entry imports no other module.ts.
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

export type DeployableKind = 'monolith' | 'proxy' | 'service';

/**
 * Packages a bundle cannot hold, and why. Everything else an entry imports is bundled (pure
 * JavaScript: express, pg, bullmq, pino, zod …), so an image installs nothing from the registry.
 */
export const externalPackages: Readonly<Record<string, { ships: boolean; why: string }>> = {
  'better-sqlite3': { ships: true, why: 'a native addon (.node file) loaded from its own package folder' },
  'msgpackr-extract': { ships: false, why: "msgpackr's optional native decoder; without it msgpackr (BullMQ's encoding) uses its JavaScript one" },
  'pg-native': { ships: false, why: "pg's optional libpq binding, loaded only through pg.native, which the platform never uses" },
};

export interface BundleOptions {
  root: string;
  kind: DeployableKind;
  /** The module a service runs. */
  module?: string;
  /** Where dist/ and package.json go. */
  outDir: string;
  /** A service's module.ts, relative to root (default src/modules/<module>/module.ts). */
  modulePath?: string;
  manifestsPath?: string;
  /** Migration folders to carry, relative to root (default: all of migrations/ for the monolith, migrations/<module> for a service). */
  migrations?: string[];
}

export interface DeployableBundle {
  /** path → content, under outDir. */
  files: Map<string, Uint8Array | string>;
  metafile: Metafile;
  /** The shipped external packages the bundle imports, with the versions installed at root. */
  runtimePackages: Record<string, string>;
}

/** The file a deployable starts from, inside dist/. */
export function entryFile(kind: DeployableKind): string {
  return `${kind}.mjs`;
}

export async function bundleDeployable(o: BundleOptions): Promise<DeployableBundle> {
  const dist = join(o.outDir, 'dist');
  const entries = entrySources(o);
  const result = await build({
    ...common(o.root),
    entryPoints: Object.keys(entries).map((name) => ({ in: `deployable-entry:${name}`, out: name })),
    outdir: dist,
    // Beside the entries: code resolved relative to its own file (migrations, the checkpoint worker) finds the same paths.
    chunkNames: '[name]-[hash]',
    splitting: true,
    metafile: true,
    plugins: [virtualEntries(o.root, entries), migrationsRootIs('import.meta.dirname')],
  });
  const files = new Map<string, Uint8Array | string>();
  for (const f of result.outputFiles) files.set(f.path, f.contents);
  if (o.kind !== 'proxy') {
    // SQLite's background WAL checkpoints run in a worker thread loaded from its own file, which
    // esbuild does not follow: it gets a bundle of its own beside the entry.
    const worker = await buildCheckpointWorker(o.root, dist);
    for (const f of worker.outputFiles) files.set(f.path, f.contents);
    for (const folder of o.migrations ?? (o.kind === 'monolith' ? ['migrations'] : [`migrations/${o.module}`])) {
      for (const file of filesUnder(join(o.root, folder))) files.set(join(dist, relative(o.root, file)), readFileSync(file));
    }
  }
  if (o.kind === 'proxy') {
    // The migration console's page, styles and scripts are served as files, found beside the bundle.
    const assets = join(o.root, 'proxy/console');
    for (const file of filesUnder(assets)) files.set(join(dist, 'console', relative(assets, file)), readFileSync(file));
  }
  files.set(join(dist, 'meta.json'), `${JSON.stringify(result.metafile, null, 2)}\n`);
  const runtimePackages = shippedImports(result.metafile, o.root);
  files.set(join(o.outDir, 'package.json'), runtimePackageJson(o, runtimePackages));
  return { files, metafile: result.metafile, runtimePackages };
}

/**
 * `npm start`'s build of `entry` (scripts/start-cache.ts): the same bundle as an image's, with its
 * chunks and the checkpoint worker, but run in place: migrations and the installed better-sqlite3
 * are the checkout's own, so nothing is copied. Answers the files and every source file it read,
 * relative to root (packages' files left out: the lockfiles stand for them).
 */
export async function bundleForStart(root: string, entry: string, outDir: string): Promise<{ files: Map<string, Uint8Array>; inputs: string[] }> {
  const result = await build({
    ...common(root),
    entryPoints: [{ in: 'deployable-entry:start', out: 'start' }],
    outdir: outDir,
    chunkNames: '[name]-[hash]',
    splitting: true,
    metafile: true,
    plugins: [virtualEntries(root, { start: `// Generated: ${entry}, as npm start runs it.\nimport ${JSON.stringify(`./${entry}`)};` }), migrationsRootIs(JSON.stringify(root)), externalsOfCheckout(root)],
  });
  const worker = await buildCheckpointWorker(root, outDir, [externalsOfCheckout(root)]);
  const files = new Map<string, Uint8Array>();
  for (const f of [...result.outputFiles, ...worker.outputFiles]) files.set(f.path, f.contents);
  const inputs = new Set<string>();
  for (const m of [result.metafile, worker.metafile]) {
    for (const p of Object.keys(m.inputs)) if (!p.includes(':') && !p.startsWith('node_modules/')) inputs.add(p.replace(/\\/g, '/'));
  }
  return { files, inputs: [...inputs].sort() };
}

/** SQLite's checkpoint worker thread, loaded from its own file beside the entry (esbuild does not follow a Worker's file). */
function buildCheckpointWorker(root: string, dir: string, plugins: Plugin[] = []) {
  return build({ ...common(root), metafile: true, plugins, entryPoints: ['./src/platform/data/wal-checkpoint-worker.ts'], outfile: join(dir, 'wal-checkpoint-worker.mjs') });
}

/** Copies the shipped packages the bundle imports from root/node_modules into outDir/node_modules, without their build-only files. */
export function copyRuntimePackages(root: string, outDir: string, packages: Record<string, string>): void {
  for (const name of Object.keys(packages)) {
    const from = join(root, 'node_modules', name);
    const platformBinary = `${process.platform}-${process.arch}.node`;
    cpSync(from, join(outDir, 'node_modules', name), {
      recursive: true,
      // better-sqlite3 carries its C sources and a prebuilt addon for every platform: keep the one this image runs on.
      filter: (src) => {
        const rel = relative(from, src);
        if (rel.startsWith('deps') || rel.startsWith('src') || rel === 'binding.gyp') return false;
        if (rel.startsWith(`prebuilds${'/'}`) && !rel.endsWith(platformBinary)) return false;
        if (rel.startsWith(`build${'/'}`) && !/^build\/(Release(\/[^/]+\.node)?)?$/.test(rel)) return false;
        return true;
      },
    });
  }
}

/** A service's bundle holds files of another module's implementation (anything but its public surface). */
export function foreignImplementations(metafile: Metafile, module: string): string[] {
  const publicSurface = /^src\/modules\/([^/]+)\/(index|contract|events)\.ts$/;
  return Object.keys(metafile.inputs)
    .map((p) => p.replace(/\\/g, '/'))
    .filter((p) => p.startsWith('src/modules/') && !p.startsWith(`src/modules/${module}/`) && !publicSurface.test(p));
}

function common(root: string) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: Object.keys(externalPackages),
    // jsonc-parser's main build is UMD, whose require('./impl/…') calls esbuild leaves to run time,
    // where nothing is beside the bundle to find: its ES module build bundles like any other.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    outExtension: { '.js': '.mjs' },
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: root,
    // Bundled CommonJS packages call require() for Node's built-ins and some read __dirname; an ES
    // module has neither, so every output file defines them from its own location.
    banner: {
      js: [
        "import { createRequire as __bundleRequire } from 'node:module';",
        "import { fileURLToPath as __bundleFileUrl } from 'node:url';",
        "import { dirname as __bundleDirname } from 'node:path';",
        'const require = __bundleRequire(import.meta.url);',
        'const __filename = __bundleFileUrl(import.meta.url);',
        'const __dirname = __bundleDirname(__filename);',
      ].join('\n'),
    },
  } as const;
}

/** The generated entries: each imports the start-up hooks first and the rest dynamically, as src/main.ts does. */
function entrySources(o: BundleOptions): Record<string, string> {
  const hooks = [`import './src/platform/kernel/compile-cache.ts';`, `import './src/platform/observability/instrumentation-hook.ts';`, `import './src/platform/kernel/load-drizzle-as-commonjs.ts';`].join('\n');
  if (o.kind === 'proxy') return { proxy: `// Generated: npm run proxy.\nimport './proxy/src/main.ts';` };
  /** `npm run migrate` (scripts/migrate.ts) for the modules `load` answers. */
  const migrate = (what: string, load: string) =>
    [
      `// Generated: npm run migrate for ${what}.`,
      hooks,
      `const { loadConfig, ConfigError } = await import('./src/platform/config/env.ts');`,
      `const { migrateModules } = await import('./src/platform/data/migrate.ts');`,
      `try {`,
      `  const modules = ${load};`,
      `  const config = loadConfig();`,
      `  console.log(\`migrating \${modules.map((m) => m.manifest.name).join(', ')} on \${config.storeEngine}\`);`,
      `  await migrateModules(modules.map((m) => m.schema), config, { log: (line) => console.log(\`  \${line}\`) });`,
      `  console.log('done');`,
      `} catch (err) {`,
      `  console.error(err instanceof ConfigError ? err.message : err);`,
      `  process.exit(1);`,
      `}`,
    ].join('\n');
  if (o.kind === 'monolith') {
    return {
      monolith: `// Generated: the monolith, as npm start.\nimport './src/main.ts';`,
      migrate: migrate('every module', `await (await import('./src/platform/modules/system.ts')).loadAll((await import('./src/composition-root.ts')).system)`),
    };
  }
  if (!o.module) throw new Error('a service bundle needs its module');
  const modulePath = JSON.stringify(`./${o.modulePath ?? `src/modules/${o.module}/module.ts`}`);
  const manifestsPath = JSON.stringify(`./${o.manifestsPath ?? 'src/manifests.ts'}`);
  return {
    // The same hooks and the same bootstrap as src/service.ts, with a system that can load this one
    // module's implementation and no other.
    service: [
      `// Generated by npm run extract: the ${o.module} service, and no other module's implementation.`,
      hooks,
      `const { bootstrap } = await import('./src/platform/kernel/bootstrap.ts');`,
      `const { systemOf } = await import('./src/platform/modules/system.ts');`,
      `const { manifests } = await import(${manifestsPath});`,
      `const system = systemOf(manifests, { ${JSON.stringify(o.module)}: async () => (await import(${modulePath})).default });`,
      `await bootstrap({ system, run: ${JSON.stringify(o.module)} });`,
    ].join('\n'),
    migrate: migrate(`the ${o.module} module alone`, `[(await import(${modulePath})).default]`),
  };
}

function virtualEntries(root: string, sources: Record<string, string>): Plugin {
  return {
    name: 'deployable-entries',
    setup(b) {
      b.onResolve({ filter: /^deployable-entry:/ }, (args) => ({ path: args.path.slice('deployable-entry:'.length), namespace: 'deployable-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'deployable-entry' }, (args) => ({ contents: sources[args.path], resolveDir: root, loader: 'ts' }));
    },
  };
}

/**
 * Where the bundle finds migrations/<module>/: `answer` is the expression migrationsRoot() returns.
 * An image's bundle looks in its own folder (dist/migrations/…), wherever that folder is copied;
 * npm start's build, run in place, in the checkout it was built from.
 */
function migrationsRootIs(answer: string): Plugin {
  return {
    name: 'migrations-root',
    setup(b) {
      b.onResolve({ filter: /\/migrations-root\.ts$/ }, () => ({ path: 'migrations-root', namespace: 'migrations-root' }));
      b.onLoad({ filter: /.*/, namespace: 'migrations-root' }, () => ({ contents: `export function migrationsRoot() { return ${answer}; }`, loader: 'js' }));
    },
  };
}

/** A build run in place, wherever its folder is, imports the packages it cannot hold from the checkout's node_modules. */
function externalsOfCheckout(root: string): Plugin {
  const fromRoot = createRequire(join(root, 'package.json'));
  const names = Object.keys(externalPackages).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return {
    name: 'externals-of-checkout',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => {
        try {
          return { path: fromRoot.resolve(args.path), external: true };
        } catch {
          return { path: args.path, external: true }; // an optional package not installed: left to fail where it is asked for, as from source
        }
      });
    },
  };
}

function shippedImports(metafile: Metafile, root: string): Record<string, string> {
  const imported = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const i of output.imports) if (i.external) imported.add(i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0]!);
  }
  const shipped: Record<string, string> = {};
  for (const name of [...imported].sort()) {
    if (!externalPackages[name]?.ships) continue;
    shipped[name] = (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  }
  return shipped;
}

function runtimePackageJson(o: BundleOptions, dependencies: Record<string, string>): string {
  const project = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { name: string; version: string };
  const name = o.kind === 'service' ? `${o.module}-service` : o.kind;
  return `${JSON.stringify(
    {
      name: `${project.name}-${name}`,
      version: project.version,
      private: true,
      description: `Generated with the bundle: the packages dist/${entryFile(o.kind)} cannot hold. npm install --omit=dev, then node dist/${entryFile(o.kind)}`,
      type: 'module',
      engines: { node: '>=22' },
      dependencies,
    },
    null,
    2,
  )}\n`;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
