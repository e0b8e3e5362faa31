import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { ContractApi } from '../../../platform/contracts/define-contract.ts';
import type { Logger } from '../../../platform/logging/logger.ts';
import type { Counter } from 'prom-client';
import type { catalogContract } from '../../catalog/index.ts';
import type { inventoryContract } from '../../inventory/index.ts';
import type { paymentsContract } from '../../payments/index.ts';
import type { OrdersTables } from '../db/schema.ts';

export interface OrdersDeps {
  store: ModuleStore<OrdersTables>;
  unitOfWork: RunUnitOfWork;
  catalog: ContractApi<typeof catalogContract>;
  inventory: ContractApi<typeof inventoryContract>;
  payments: ContractApi<typeof paymentsContract>;
  logger: Logger;
  clock: Clock;
  saga: { retryDelayMs: number; deadlineMs: number; paymentDeadlineMs: number; leaseMs: number };
  metrics: {
    finished: Counter<'outcome' | 'reason'>;
    retries: Counter<'step'>;
    parked: Counter<'step'>;
  };
  /** Wakes the saga runner right after an order is placed. */
  kickSaga: () => void;
}
