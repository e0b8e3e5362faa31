import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork, UnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { PaymentsTables } from '../db/schema.ts';
import { isStreamConflict, StreamConflict, type EventStore, type LoadedAccount } from '../db/event-store.ts';
import type { AccountEvent, AccountState, OrderPayment } from '../domain/account.ts';
import type { PaymentProvider } from '../provider/payment-provider.ts';

export interface PaymentsDeps {
  store: ModuleStore<PaymentsTables>;
  unitOfWork: RunUnitOfWork;
  events: EventStore;
  provider: PaymentProvider;
  clock: Clock;
}

/**
 * Load, decide, append — retried when another writer appended to the same account first.
 * `decide` sees the freshest state inside the transaction (the account's summary and the order's
 * payment so far) and returns what to record. `alreadyLoaded` (the account as the caller just read
 * it for the same order) spares the first load: if anyone appended since, the append finds its
 * version taken, and the retry loads afresh.
 */
export async function changeAccount<R>(
  deps: PaymentsDeps,
  accountId: string,
  orderId: string,
  decide: (payment: OrderPayment | undefined, state: AccountState) => { events: AccountEvent[]; result: R; announce?: (uow: UnitOfWork) => Promise<void> },
  alreadyLoaded?: LoadedAccount,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.unitOfWork(async (uow) => {
        const loaded = attempt === 1 && alreadyLoaded?.orderId === orderId ? alreadyLoaded : await deps.events.load(uow.db, accountId, { orderId });
        const decision = decide(loaded.payment, loaded.state);
        const events = !loaded.state.opened && decision.events.length ? [{ type: 'AccountOpened' as const, customerId: accountId }, ...decision.events] : decision.events;
        if (events.length) await deps.events.append(uow.db, accountId, loaded, events, deps.clock.now());
        await decision.announce?.(uow);
        return decision.result;
      });
    } catch (err) {
      if (!isStreamConflict(err)) throw err;
      if (attempt >= 10) throw new StreamConflict(accountId, { cause: err });
    }
  }
}
