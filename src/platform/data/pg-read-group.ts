// The prepared reads of one Postgres store (prepared-read.ts) that are asked for while the store
// waits for a connection to send them on go together, in one round trip: each statement's Bind and
// Execute back to back, one Sync (pg-round-trip.ts). Under load, each order read the catalog and
// the payer's account with a round trip of its own, each costing a socket write and the wake-ups
// of both processes (the Postgres row of the orders bench; decision 32); side by side, the reads
// of the orders placed meanwhile share one.
//
// - The batch closes when its connection is in hand, not on a timer: a read asked for while the
//   store is idle goes at the end of its turn (one setImmediate later); under load, the reads
//   that arrive while the pool is busy wait for a connection anyway, and go on the first free one.
//   Several batches may be out at once, each on its own connection.
// - Reads only: each statement runs in the implicit transaction of its round trip, under its own
//   snapshot (read committed), and sees what any unit that committed before it was sent wrote.
// - One read that fails (a value Postgres refuses, a cancelled statement) fails alone: Postgres
//   skips what follows it up to the Sync, and those reads, which changed nothing, go again in the
//   next batch. So do those behind the read a lost connection was running, which fails with it;
//   the connection is dropped, not handed out again. A read pg cannot send (a value it cannot
//   convert) fails alone too, sending nothing; when the connection could not send at all, the
//   batch goes again on another, a few times at most.
// - A closed store fails its reads at once, those waiting for a connection included: the
//   connections it is given (pg-store.ts) fail every connect once the store closes.
import { context, type Context, type Span } from '@opentelemetry/api';
import type pg from 'pg';
import { tracer } from '../observability/trace-context.ts';
import { NotRun, RoundTrip, type Statement } from './pg-round-trip.ts';
import { refusedByServer } from './pg-errors.ts';

interface Asked {
  statement: Statement;
  values?: unknown[];
  context: Context;
  resolve(result: pg.QueryResult): void;
  reject(err: unknown): void;
  /** Batches it went in that a connection could not send. */
  unsent: number;
}

/** How many batches a connection could not send a read may go in before it fails with them. */
const UNSENT_TRIES = 3;

/** Where a batch gets its connection: the store's pool, whose connect fails once the store closes. */
export interface Connections {
  connect(): Promise<pg.PoolClient>;
}

export class ReadGroup {
  private waiting: Asked[] = [];
  private asking = false;
  private readonly connections: Connections;

  constructor(connections: Connections) {
    this.connections = connections;
  }

  /** What drizzle's prepared query calls: answers as pg's `client.query` would. */
  query(config: Statement, values?: unknown[]): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ statement: config, values, context: context.active(), resolve, reject, unsent: 0 });
      this.ask();
    });
  }

  private ask(): void {
    if (this.asking) return;
    this.asking = true;
    // At the end of the turn, so every read asked for in it joins; then until a connection is free.
    setImmediate(() => void this.send());
  }

  private async send(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.connections.connect();
    } catch (err) {
      const failed = this.waiting;
      this.waiting = [];
      this.asking = false;
      for (const a of failed) a.reject(err);
      return;
    }
    const batch = this.waiting;
    this.waiting = [];
    this.asking = false;
    let broken: Error | undefined;
    // A backend the server ends while the batch is out fails the read it was running (those
    // behind it go again), and its connection is dropped rather than returned to the pool, as a
    // unit of work's is.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    const trip = new RoundTrip();
    let spans: Span[] = [];
    let handed = false;
    try {
      for (const a of batch) trip.add(a.statement, a.values).then(a.resolve, (err) => this.failed(a, err, trip));
      // The first read's trace has the batch's round trip (all its statements); the others' a span each.
      spans = batch.slice(1).map((a) => tracer.startSpan('pg read in a batch', { attributes: { 'db.system.name': 'postgresql', 'db.operation.batch.size': batch.length } }, a.context));
      context.with(batch[0]!.context, () => client.query(trip as never));
      handed = true;
      await trip.done;
    } catch (err) {
      if (!handed) {
        // Never reached the connection: no read will hear from it.
        broken = err as Error;
        for (const a of batch) a.reject(err);
      } else if (!trip.refusedAStatement && !refusedByServer(err)) {
        // A statement's ERROR leaves the session usable, and so does a read pg would not send;
        // anything else (the connection) does not.
        broken ??= err as Error;
      }
    } finally {
      for (const span of spans) span.end();
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * A read of the batch that failed. When the connection could not send the batch at all, each of
   * its reads goes again, a few times at most, each time on another connection. Otherwise one
   * skipped behind another's failure goes again (every such batch settles the read that failed,
   * so this ends), and the read that failed fails.
   */
  private failed(a: Asked, err: unknown, trip: RoundTrip): void {
    if (!trip.sent && !trip.refusedAStatement) {
      if (++a.unsent < UNSENT_TRIES) return this.again(a);
      return a.reject(err instanceof NotRun ? err.cause : err);
    }
    if (err instanceof NotRun) return this.again(a);
    a.reject(err);
  }

  private again(a: Asked): void {
    this.waiting.push(a);
    this.ask();
  }
}
