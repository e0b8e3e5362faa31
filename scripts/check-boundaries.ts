// `npm run check:boundaries`: the module boundary rules (.dependency-cruiser.js, run by
// dependency-cruiser) plus the checks that read the manifests (declared dependsOn, cycles between
// modules; src/platform/boundaries/module-rules.ts). Fails on any violation not recorded in
// .dependency-cruiser-known-violations.json, naming the importing file, the imported file, the
// rule and what to do instead.
// `npm run check:boundaries:baseline` (--baseline) records today's violations as the baseline.
// See docs/boundaries.md.
import { resolve } from 'node:path';
import { runBoundaryCheck } from '../src/platform/boundaries/check.ts';

const root = resolve(import.meta.dirname, '..');
const outcome = await runBoundaryCheck(root, { writeBaseline: process.argv.includes('--baseline') });
console.log(outcome.report);
process.exitCode = outcome.exitCode;
