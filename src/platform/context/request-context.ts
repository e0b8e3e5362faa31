// One AsyncLocalStorage carries who is asking and which request/trace this work belongs to, so
// logs, outgoing calls and published events pick the ids up without threading them through
// every signature.
import { AsyncLocalStorage } from 'node:async_hooks';

import type { Identity } from '../../../lib/trust/index.ts';

/** The end user a request or call acts for: the identity its verified token gave. */
export type Caller = Identity;

export interface RequestContext {
  requestId: string;
  correlationId: string;
  traceparent?: string;
  caller?: Caller;
  /** Set while handling an event: events published now were caused by it. */
  causationId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
