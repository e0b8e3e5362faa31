// The boundary rules that need more than one import at a time: they read the module manifests
// and the import graph together. Written once, table-driven over every module (STYLE: "one
// architecture test"), reporting in dependency-cruiser's violation format so one baseline file
// and one report cover both kinds.
//
// Declared dependencies (after Spring Modulith's allowedDependencies and Packwerk's package.yml):
// - `dependsOn` names the modules whose contract (operations, schemas, errors, types) a module uses.
// - Subscribing to an event is declared by `subscribes`; importing those event definitions from the
//   producer's index.ts needs no dependsOn entry. Any other name imported from another module
//   (its contract, its errors, an event it does not subscribe to) does.
// - Test code (*.test.ts, test/ folders) is left out: a test may import a neighbour to fake or
//   observe it without making the module depend on it.
import type { ICruiseResult, IViolation } from 'dependency-cruiser';

export interface ModuleInfo {
  /** The folder under src/modules/. */
  readonly folder: string;
  readonly manifest?: {
    readonly name: string;
    readonly dependsOn: readonly string[];
    readonly publishes: readonly { key: string }[];
    readonly subscribes: readonly { key: string }[];
  };
  /** Export names of its index.ts that are event definitions, with their keys (`OrderPlaced.v1`). */
  readonly eventExports: ReadonlyMap<string, string>;
  /** Codes of the errors its contract declares (beyond the kernel's own). */
  readonly errorCodes?: readonly string[];
  /** Why the manifest could not be read, when it could not. */
  readonly loadError?: string;
}

export interface ModuleImport {
  readonly fromModule: string;
  readonly toModule: string;
  readonly fromFile: string;
  readonly toFile: string;
  readonly typeOnly: boolean;
  /** The names imported, or '*' when they cannot be told (namespace or dynamic import). */
  readonly names: readonly string[] | '*';
  readonly testCode: boolean;
}

/** A violation plus a sentence about this particular case; `detail` is not written to the baseline. */
export type Finding = IViolation & { detail?: string };

export const MODULE_RULES = {
  'module-has-manifest': {
    comment:
      "Every folder under src/modules/ is a module: its index.ts exports its manifest (defineManifest) with the folder's name. " +
      'Add index.ts with the manifest, or move the folder out of src/modules/.',
  },
  'undeclared-module-dependency': {
    comment:
      "A module uses another module's contract (or an event it does not subscribe to) without declaring it. " +
      "Add the other module to dependsOn in this module's manifest (its index.ts) so the dependency is visible in review, " +
      'or list the event in subscribes if you only react to it.',
  },
  'declared-dependency-unused': {
    comment:
      "The manifest declares dependsOn on a module that this module's code does not use. " +
      'Remove it from dependsOn (or fix the name), so the declared dependencies stay the true ones.',
  },
  'no-foreign-error-code-strings': {
    comment:
      "A module matches another module's error by its code written as a string. A rename on the other side would still " +
      "compile and silently change what this module does. Import the error class from the other module's index.ts " +
      '(its contract exports it) and use `err instanceof TheError`.',
  },
  'no-module-cycle': {
    comment:
      'These modules depend on each other in a circle (through their index.ts: contract calls or event subscriptions). ' +
      'Break the cycle: let one side react to an event the other publishes instead of calling back, or move the shared concept into one of them.',
  },
} as const;

export type ModuleRuleName = keyof typeof MODULE_RULES;

const MODULE_PATH = /^src\/modules\/([^/]+)\//;
const TEST_CODE = /\.test\.ts$|(^|\/)test\//;

export function moduleOf(path: string): string | undefined {
  return MODULE_PATH.exec(path)?.[1];
}

export function isTestCode(path: string): boolean {
  return TEST_CODE.test(path);
}

/** Every import that crosses from one module into another, with the names it imports. */
export function crossModuleImports(result: ICruiseResult, readSource: (file: string) => string): ModuleImport[] {
  const imports: ModuleImport[] = [];
  for (const mod of result.modules) {
    const fromModule = moduleOf(mod.source);
    if (!fromModule) continue;
    let source: string | undefined;
    for (const dep of mod.dependencies) {
      const toModule = moduleOf(dep.resolved);
      if (!toModule || toModule === fromModule) continue;
      source ??= readSource(mod.source);
      imports.push({
        fromModule,
        toModule,
        fromFile: mod.source,
        toFile: dep.resolved,
        typeOnly: dep.dependencyTypes.includes('type-only'),
        names: dep.dynamic ? '*' : importedNames(source, dep.module),
        testCode: isTestCode(mod.source),
      });
    }
  }
  return imports;
}

/** Names a file imports (or re-exports) from one specifier; '*' for a namespace or unreadable import. */
export function importedNames(source: string, specifier: string): readonly string[] | '*' {
  const statement = /(?:^|[;\n])\s*(?:import|export)\s+(?:type\s+)?([^;=()]*?)\s*from\s*(['"])([^'"]+)\2/g;
  const names: string[] = [];
  let found = false;
  for (const match of source.matchAll(statement)) {
    if (match[3] !== specifier) continue;
    found = true;
    const clause = match[1]!.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
    if (clause.includes('*')) return '*';
    const braces = /\{([^}]*)\}/.exec(clause);
    const before = braces ? clause.slice(0, braces.index).replace(/,\s*$/, '').trim() : clause.trim();
    if (before) names.push('default');
    for (const part of braces?.[1]?.split(',') ?? []) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!.trim();
      if (name) names.push(name);
    }
  }
  return found ? names : '*';
}

/** Checks the manifests against the code: declared dependencies, and no cycles between modules. */
export function checkModules(modules: readonly ModuleInfo[], imports: readonly ModuleImport[]): Finding[] {
  const findings: Finding[] = [];
  const byFolder = new Map(modules.map((m) => [m.folder, m]));
  const production = imports.filter((i) => !i.testCode && byFolder.has(i.toModule));
  const index = (folder: string) => `src/modules/${folder}/index.ts`;

  for (const mod of modules) {
    if (!mod.manifest || mod.manifest.name !== mod.folder) {
      findings.push({
        type: 'module',
        rule: { name: 'module-has-manifest', severity: 'error' },
        from: index(mod.folder),
        to: index(mod.folder),
        detail: mod.loadError ?? (mod.manifest ? `its manifest is named '${mod.manifest.name}', not '${mod.folder}'` : 'no manifest is exported'),
      });
    }
  }

  for (const imp of production) {
    const from = byFolder.get(imp.fromModule)?.manifest;
    const to = byFolder.get(imp.toModule)!;
    if (!from) continue;
    if (from.dependsOn.includes(imp.toModule)) continue;
    const subscribed = new Set(from.subscribes.map((e) => e.key));
    const onlySubscribedEvents =
      imp.toFile === index(imp.toModule) &&
      imp.names !== '*' &&
      imp.names.every((n) => subscribed.has(to.eventExports.get(n) ?? '\0'));
    if (onlySubscribedEvents) continue;
    const what = imp.names === '*' ? 'the whole module' : imp.names.join(', ');
    findings.push({
      type: 'dependency',
      rule: { name: 'undeclared-module-dependency', severity: 'error' },
      from: imp.fromFile,
      to: imp.toFile,
      detail: `${imp.fromModule} uses ${what} from ${imp.toModule}, but ${index(imp.fromModule)} does not declare dependsOn: ['${imp.toModule}']`,
    });
  }

  for (const mod of modules) {
    for (const dep of mod.manifest?.dependsOn ?? []) {
      if (production.some((i) => i.fromModule === mod.folder && i.toModule === dep)) continue;
      findings.push({
        type: 'dependency',
        rule: { name: 'declared-dependency-unused', severity: 'error' },
        from: index(mod.folder),
        to: index(dep),
        detail: byFolder.has(dep)
          ? `${mod.folder} declares dependsOn '${dep}' but none of its code imports ${index(dep)}`
          : `${mod.folder} declares dependsOn '${dep}' but there is no module src/modules/${dep}/`,
      });
    }
  }

  findings.push(...moduleCycles(production));
  return uniqueFindings(findings);
}

/**
 * String literals in a module's production code that spell another module's error code
 * (`'OutOfStock'`): coupling the import graph cannot see. `sources` maps a file to its text.
 */
export function foreignErrorCodeStrings(modules: readonly ModuleInfo[], sources: ReadonlyMap<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const [file, text] of sources) {
    const owner = moduleOf(file);
    if (!owner || isTestCode(file)) continue;
    for (const other of modules) {
      if (other.folder === owner) continue;
      for (const code of other.errorCodes ?? []) {
        if (!new RegExp(`(['"\`])${code}\\1`).test(text)) continue;
        findings.push({
          type: 'dependency',
          rule: { name: 'no-foreign-error-code-strings', severity: 'error' },
          from: file,
          to: `src/modules/${other.folder}/index.ts`,
          detail: `${file} spells ${other.folder}'s error code '${code}' as a string; use the ${code} class from src/modules/${other.folder}/index.ts`,
        });
      }
    }
  }
  return findings;
}

/** Cycles in the graph of modules (an edge: some production file of one imports the other). */
export function moduleCycles(imports: readonly ModuleImport[]): Finding[] {
  const edges = new Map<string, Map<string, ModuleImport>>();
  for (const imp of imports) {
    const out = edges.get(imp.fromModule) ?? new Map<string, ModuleImport>();
    if (!out.has(imp.toModule)) out.set(imp.toModule, imp);
    edges.set(imp.fromModule, out);
  }
  const findings: Finding[] = [];
  for (const component of stronglyConnected([...edges.keys()], (m) => [...(edges.get(m)?.keys() ?? [])])) {
    if (component.length < 2) continue;
    const start = [...component].sort()[0]!;
    const path = cycleThrough(start, new Set(component), (m) => [...(edges.get(m)?.keys() ?? [])].sort());
    const hops = path.map((m, i) => edges.get(m)!.get(path[(i + 1) % path.length]!)!);
    findings.push({
      type: 'cycle',
      rule: { name: 'no-module-cycle', severity: 'error' },
      from: hops[0]!.fromFile,
      to: hops[0]!.toFile,
      cycle: hops.map((h) => ({ name: h.toFile, dependencyTypes: [] })),
      detail:
        `${[...path, start].join(' → ')}:\n` + hops.map((h) => `      ${h.fromFile} imports ${h.toFile}`).join('\n'),
    });
  }
  return findings;
}

function stronglyConnected(nodes: string[], next: (n: string) => string[]): string[][] {
  // Tarjan's algorithm; the graph has one node per module, so recursion depth is no concern.
  let counter = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (n: string) => {
    indexOf.set(n, counter);
    low.set(n, counter++);
    stack.push(n);
    onStack.add(n);
    for (const m of next(n)) {
      if (!indexOf.has(m)) {
        visit(m);
        low.set(n, Math.min(low.get(n)!, low.get(m)!));
      } else if (onStack.has(m)) low.set(n, Math.min(low.get(n)!, indexOf.get(m)!));
    }
    if (low.get(n) === indexOf.get(n)) {
      const component: string[] = [];
      let m: string;
      do {
        m = stack.pop()!;
        onStack.delete(m);
        component.push(m);
      } while (m !== n);
      components.push(component);
    }
  };
  for (const n of nodes) if (!indexOf.has(n)) visit(n);
  return components;
}

/** A shortest cycle from start back to start inside one strongly connected component (BFS). */
function cycleThrough(start: string, within: Set<string>, next: (n: string) => string[]): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const n = queue.shift()!;
    for (const m of next(n)) {
      if (!within.has(m)) continue;
      if (m === start) {
        const path = [n];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return path;
      }
      if (!parent.has(m)) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  return [start];
}

function uniqueFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule.name}|${f.from}|${f.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
