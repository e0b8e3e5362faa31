// Prints, as JSON on stdout, the contracts of the source tree given as the only argument. The
// check runs it in a child process for a tree extracted from an older git ref, so that tree's
// modules load in a process of their own and cannot clash with the current ones.
import { contractsOfTree } from './check-contracts-snapshot.ts';

const root = process.argv[2];
if (!root) {
  console.error('usage: node scripts/check-contracts-read-tree.ts <source tree>');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await contractsOfTree(root)));
