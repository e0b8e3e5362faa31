import ledger from '../fixtures/modules/ledger/module.ts';
import tally from '../fixtures/modules/tally/module.ts';
import { ledgerManifest } from '../fixtures/modules/ledger/index.ts';
import { tallyManifest } from '../fixtures/modules/tally/index.ts';
import { systemOf } from '../../src/platform/modules/system.ts';
import type { Module } from '../../src/platform/modules/define-module.ts';

/** A producer (ledger) and a subscriber (tally) for bus tests; see test/fixtures/modules. */
export const busFixtures = (): Module[] => [ledger, tally];

/** The same two as a system, for a deployable started through bootstrap (test/fixtures/bus-app.ts). */
export const busSystem = systemOf([ledgerManifest, tallyManifest], { ledger: async () => ledger, tally: async () => tally });
