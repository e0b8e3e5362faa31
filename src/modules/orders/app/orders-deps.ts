import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { ContractApi } from '../../../platform/contracts/define-contract.ts';
import type { Logger } from '../../../platform/logging/logger.ts';
import type { Counter } from 'prom-client';
import type { catalogContract } from '../../catalog/index.ts';
import type { inventoryContract } from '../../inventory/index.ts';
import type { paymentsContract } from '../../payments/index.ts';
import type { OrderRecord, OrdersTables, SagaRow } from '../db/schema.ts';
import type { OrderWatchers } from './order-watchers.ts';
import type { OrderStatements } from '../db/order-writes.ts';

/** How placement hands a new saga to the runner (saga-runner.ts). */
export interface SagaHandOver {
  /**
   * Drives this saga now: the unit of work that made it due has just committed. `order` and
   * `saga` are the rows as that unit wrote them (spares reading them back). At capacity, or with
   * the hand-over switched off, it is left to the poll.
   */
  driveNow(orderId: string, order: OrderRecord, saga: SagaRow): void;
  /**
   * A slot for a saga about to be written: the placing unit of work writes it already leased to
   * this runner (the lease answered here), so driving it needs no claim. Undefined when the runner
   * is full or hand-overs are off (the saga is then written unleased, for `driveNow` or the poll).
   * Must be followed by `driveNow` once the unit commits, or `abandon` if it does not.
   */
  leaseForNew(orderId: string): { leaseOwner: string; leaseUntil: Date } | undefined;
  abandon(orderId: string): void;
}

export interface OrdersDeps {
  store: ModuleStore<OrdersTables>;
  /** The statements of the order path, built once. */
  statements: OrderStatements;
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
    leasesLost: Counter<never>;
  };
  /** Hands a just-placed order's saga to the runner. */
  sagas: SagaHandOver;
  /** Requests waiting for an order to be settled. */
  watchers: OrderWatchers;
}
