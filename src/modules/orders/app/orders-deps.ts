import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { ContractApi } from '../../../platform/contracts/define-contract.ts';
import type { Logger } from '../../../platform/logging/logger.ts';
import type { Counter } from 'prom-client';
import type { catalogContract } from '../../catalog/index.ts';
import type { inventoryContract } from '../../inventory/index.ts';
import type { paymentsContract } from '../../payments/index.ts';
import type { OrderRecord, OrdersTables } from '../db/schema.ts';
import type { OrderWatchers } from './order-watchers.ts';

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
  /** Hands a just-placed order's saga to the runner, once its unit of work has committed. */
  driveSaga: (orderId: string, order: OrderRecord) => void;
  /** Requests waiting for an order to be settled. */
  watchers: OrderWatchers;
}
