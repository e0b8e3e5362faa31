// One try of a request on one upstream instance, as an undici dispatch handler (see
// docs/decisions/0007-proxy-hot-path-on-undici.md). undici's stream() API, which this replaced,
// kept ~12 MB of each request's objects alive across young collections at 3,000 req/s, so they
// were promoted and the collections took 10–50 ms instead of ~1 ms; a plain handler holds nothing
// past the answer. A new one per try, so a try that was given up (fallback, another instance)
// cannot touch the next. It counts itself in its instance's in-flight figure until it settles,
// and tells its exchange how it ended exactly once.
import type { Dispatcher } from 'undici';
import type { UpstreamInstance } from './upstream-pool.ts';

/** What an attempt reports to (the exchange it belongs to). */
export interface AttemptListener {
  answerStarted(attempt: Attempt, controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, statusMessage: string | undefined): void;
  answerData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
  answerEnded(attempt: Attempt): void;
  answerFailed(attempt: Attempt, err: NodeJS.ErrnoException): void;
}

export class Attempt implements Dispatcher.DispatchHandler {
  readonly instance: UpstreamInstance;
  private readonly listener: AttemptListener;
  private controller: Dispatcher.DispatchController | null = null;
  private abortedWith: Error | undefined;
  /** The listener has been told how this attempt ended; undici's later word on it is ignored. */
  private settled = false;

  constructor(listener: AttemptListener, instance: UpstreamInstance) {
    this.listener = listener;
    this.instance = instance;
    instance.inFlight++;
  }

  /** True while undici has not yet handed this attempt a connection: nothing of it reached the instance. */
  get neverConnected(): boolean {
    return this.controller === null;
  }

  abort(err: Error): void {
    this.abortedWith = err;
    if (this.controller) this.controller.abort(err);
    // Still queued for a connection (dispatch() offers no way to take it out of undici's queue):
    // settle now, so the instance is released at once rather than when the connection is made or
    // gives up (up to the connect timeout); onRequestStart aborts it when it gets there.
    else this.settle(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client left while the request waited for a connection.
    if (this.abortedWith) controller.abort(this.abortedWith);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    // 102 Processing, 103 Early Hints: the final answer follows on the same exchange.
    if (statusCode < 200) return;
    this.listener.answerStarted(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.listener.answerData(controller, chunk);
  }

  onResponseEnd(): void {
    if (this.settleOnce()) this.listener.answerEnded(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.settle(err);
  }

  private settle(err: Error): void {
    if (this.settleOnce()) this.listener.answerFailed(this, err as NodeJS.ErrnoException);
  }

  /** True the first time only; releases the instance. */
  private settleOnce(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.instance.inFlight--;
    return true;
  }
}
