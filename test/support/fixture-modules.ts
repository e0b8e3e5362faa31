import { ledgerModule } from '../fixtures/modules/ledger/module.ts';
import { tallyModule } from '../fixtures/modules/tally/module.ts';
import type { ModuleDefinition } from '../../src/platform/modules/define-module.ts';

/** A producer (ledger) and a subscriber (tally) for bus tests; see test/fixtures/modules. */
export const busFixtures = (): ModuleDefinition[] => [ledgerModule as unknown as ModuleDefinition, tallyModule as unknown as ModuleDefinition];
