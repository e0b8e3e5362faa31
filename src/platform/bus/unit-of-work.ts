// The transactional outbox. An event published inside a unit of work is a row in the
// module's own outbox table, written by the same local transaction as the state change: both
// commit or neither does. A relay delivers committed rows afterwards (see outbox-relay.ts).
import type { Db, ModuleStore } from '../data/module-store.ts';
import { parseOrThrow } from '../errors/validation.ts';
import { toWire } from '../contracts/wire.ts';
import type { EventDefinition, EventPayload } from './define-event.ts';
import { envelopeFor } from './envelope.ts';

export interface UnitOfWork {
  /** This module's transaction handle. */
  readonly db: Db;
  /** Records `event` in the outbox, to be delivered only if this unit of work commits. */
  publish<E extends EventDefinition>(event: E, payload: EventPayload<E>): Promise<void>;
}

export type RunUnitOfWork = <R>(fn: (uow: UnitOfWork) => Promise<R>) => Promise<R>;

export class UndeclaredEvent extends Error {
  constructor(module: string, key: string) {
    super(`${module} published ${key}, which its manifest does not list in \`publishes\``);
  }
}

export function unitOfWorkFor(
  store: ModuleStore,
  publishes: readonly EventDefinition[],
  afterCommit: () => void,
): RunUnitOfWork {
  const declared = new Set(publishes.map((e) => e.key));
  return async (fn) => {
    let published = 0;
    const result = await store.transaction((tx) =>
      fn({
        db: tx,
        async publish(event, payload) {
          if (!declared.has(event.key)) throw new UndeclaredEvent(store.module, event.key);
          const valid = parseOrThrow(event.schema, toWire(payload, `${event.key} payload`), `${event.key} payload`);
          const envelope = envelopeFor(store.module, event, valid);
          await store.platform.appendOutbox(tx, { id: envelope.id, type: event.key, envelope, createdAt: new Date(envelope.occurredAt) });
          published++;
        },
      }),
    );
    // Delivery starts right after commit instead of waiting for the next poll.
    if (published > 0) afterCommit();
    return result;
  };
}
