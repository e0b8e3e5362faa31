// `npm run check:contracts`: fails when a module contract or event changed in a way that would
// break a deployable built against an earlier version (a caller not yet redeployed, a consumer
// reading stored events). See docs/contracts.md.
//
//   npm run check:contracts                                  against the committed contracts/snapshot.json
//   npm run check:contracts -- --against <git ref | file>    against a release, a branch or a saved snapshot
//   npm run check:contracts -- --update-snapshot --reason "<why>"   record today's contracts (and any break they make)
//
// Exit codes: 0 compatible, 1 breaking changes (each named on its own line), 2 wrong usage or an
// unreadable baseline.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SNAPSHOT_PATH, UsageError, loadBaseline } from './check-contracts-baseline.ts';
import { compareContracts, formatChange, type ContractChange } from './check-contracts-compare.ts';
import { contractsOfTree, readSnapshot, writeSnapshot } from './check-contracts-snapshot.ts';

const USAGE = `usage: npm run check:contracts -- [--against <git ref | snapshot file>]
       npm run check:contracts -- --update-snapshot --reason "<why>"
options: --root <dir> (source tree, default this repository), --snapshot <file> (default ${SNAPSHOT_PATH} under the root)`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      against: { type: 'string' },
      'update-snapshot': { type: 'boolean', default: false },
      reason: { type: 'string' },
      root: { type: 'string' },
      snapshot: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = resolve(values.root ?? resolve(import.meta.dirname, '..'));
  const snapshotFile = resolve(root, values.snapshot ?? SNAPSHOT_PATH);
  const current = await contractsOfTree(root);

  if (values['update-snapshot']) {
    if (values.against) throw new UsageError('--update-snapshot records the current contracts; it takes no --against');
    const reason = values.reason?.trim();
    if (!reason) throw new UsageError('--update-snapshot needs --reason "<why>": the reason is kept in the snapshot for reviewers');
    const previous = existsSync(snapshotFile) ? readSnapshot(snapshotFile).modules : {};
    const accepted = compareContracts(previous, current).filter((c) => c.breaking).map(formatChange);
    writeSnapshot(snapshotFile, { format: 1, reason, accepted, modules: current });
    console.log(`check:contracts: wrote ${snapshotFile}`);
    if (accepted.length > 0) console.log(`accepted ${accepted.length} breaking change(s), recorded with the reason:\n${indent(accepted)}`);
    return 0;
  }

  if (values.against === undefined && !existsSync(snapshotFile)) {
    throw new UsageError(`no snapshot at ${snapshotFile}: record one with --update-snapshot --reason "<why>", or name a baseline with --against`);
  }
  const against = values.against ?? snapshotFile;
  const baseline = loadBaseline(against, root);
  const changes = compareContracts(baseline.contracts, current);
  report(changes, values.against ?? SNAPSHOT_PATH, baseline.notes, values.against === undefined);
  return changes.some((c) => c.breaking) ? 1 : 0;
}

function report(changes: ContractChange[], label: string, notes: string[], againstSnapshot: boolean): void {
  const breaking = changes.filter((c) => c.breaking);
  const compatible = changes.filter((c) => !c.breaking);
  for (const n of notes) console.log(`note: ${n}`);
  if (breaking.length === 0) {
    console.log(`check:contracts: every contract and event is compatible with ${label}`);
  } else {
    console.log(`check:contracts: ${breaking.length} breaking change(s) against ${label}:`);
    console.log(indent(breaking.map(formatChange)));
  }
  if (compatible.length > 0) {
    const hint = againstSnapshot ? ' (not in the snapshot yet; --update-snapshot --reason records them)' : '';
    console.log(`compatible changes${hint}:\n${indent(compatible.map(formatChange))}`);
  }
  if (breaking.length > 0 && againstSnapshot) {
    console.log(
      'If the break is intended and every caller and consumer is ready for it, record it with a reason:\n' +
        '  npm run check:contracts -- --update-snapshot --reason "<why it is safe>"',
    );
  }
}

function indent(lines: string[]): string {
  return lines.map((l) => `  ${l}`).join('\n');
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`check:contracts: ${(err as Error).message}`);
  if (usage) console.error(USAGE);
  process.exitCode = 2;
}
