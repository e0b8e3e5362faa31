// docs/architecture.md is drawn from the code: the manifests and the import graph. These tests
// prove what it shows for a known pair of modules, and that the CI check notices a stale file.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderArchitecture } from '../../src/platform/boundaries/architecture.ts';
import type { ModuleImport } from '../../src/platform/boundaries/module-rules.ts';
import { ledgerManifest } from '../fixtures/modules/ledger/index.ts';
import { tallyManifest } from '../fixtures/modules/tally/index.ts';
import { repoRoot } from '../support/processes.ts';

const run = promisify(execFile);
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

async function architecture(dir: string, args: string[] = []): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'scripts/architecture.ts'), ...args], { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('docs/architecture.md', () => {
  it('draws event subscriptions from producer to consumer and catalogs each event with its JSON Schema', () => {
    const imports: ModuleImport[] = [
      { fromModule: 'tally', toModule: 'ledger', fromFile: 'x', toFile: 'y', typeOnly: false, names: ['EntryRecorded'], testCode: false },
    ];
    const md = renderArchitecture({ manifests: [tallyManifest, ledgerManifest], imports });
    expect(md).toContain('```mermaid\nflowchart LR');
    expect(md).toContain('  ledger -.->|EntryRecorded v1| tally');
    expect(md).not.toContain('-->|calls|');
    expect(md).toContain('| [EntryRecorded](#entryrecorded-v1) | 1 | ledger | tally |');
    const schema = /### EntryRecorded\.v1[\s\S]*?```json\n([\s\S]*?)```/.exec(md)?.[1];
    expect(JSON.parse(schema!)).toMatchObject({
      type: 'object',
      properties: { entryId: { type: 'string' }, amount: { type: 'integer' } },
      required: ['entryId', 'amount'],
    });
    // The import graph shows next to the declarations.
    expect(md).toMatch(/\| tally \| [^\n]* \| ledger \|\n/);
  });

  it('draws a contract call from the caller to the module it declares in dependsOn', () => {
    const caller = { ...tallyManifest, dependsOn: ['ledger'] };
    expect(renderArchitecture({ manifests: [caller, ledgerManifest], imports: [] })).toContain('  tally -->|calls| ledger');
  });

  // Four dependency-cruiser runs in child processes: minutes on a loaded two-core machine, so the
  // budget is sized for that rather than for an idle one.
  it('is current, and the --check fails once a manifest changes until the file is regenerated', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'architecture-'));
    copies.push(dir);
    for (const path of ['lib', 'src', 'proxy', 'scripts', 'test', 'docs', '.dependency-cruiser.js', 'package.json', 'tsconfig.json']) {
      cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');

    const current = await architecture(dir, ['--check']);
    expect(current.out).toContain('matches the code');
    expect(current.code, 'run npm run docs:architecture and commit docs/architecture.md').toBe(0);

    const index = join(dir, 'src/modules/catalog/index.ts');
    writeFileSync(index, readFileSync(index, 'utf8').replace(/purpose: '[^']*'/, "purpose: 'A purpose changed without regenerating the docs'"));
    const stale = await architecture(dir, ['--check']);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('docs/architecture.md is stale');

    expect((await architecture(dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'docs/architecture.md'), 'utf8')).toContain('A purpose changed without regenerating the docs');
    expect((await architecture(dir, ['--check'])).code).toBe(0);
  });
});
