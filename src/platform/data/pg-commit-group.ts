// The units of work of one Postgres store whose writes were all held to their end (decision 28)
// and that reach that end in the same turn of the event loop commit together: their writes go in
// one round trip, ended by one Sync, so Postgres runs them as one implicit transaction with one WAL
// flush, where each alone cost a round trip, a flush and the wake-ups of both processes (the orders
// bench's context switches per order; decision 29). It is the SQLite group commit's idea
// (group-commit.ts) on Postgres.
//
// - All or nothing still holds for each unit: a group either commits every unit's writes or none.
//   When the server refuses a group (an ERROR of any statement of it, or of the commit at its
//   Sync), nothing of it was kept, and each unit goes again alone, so the one that fails fails with
//   its own error and the others commit. When the outcome is unknown (the connection was lost, the
//   session ended), every unit fails with that error and nothing is sent again: a write that did
//   commit would be made twice.
// - One group at a time per store: a group holds every unit's row locks until its Sync, so two
//   groups taking the same rows in opposite orders would deadlock, which Postgres breaks only after
//   `deadlock_timeout`. Units that end while a group is out wait for it and go in the next one.
// - A group goes on a connection of its own, taken from the store's pool when it is sent and given
//   back once it is settled: its units hold none, for a unit whose writes are all held never took
//   one (pg-unit-connection.ts). So a group is not capped at the pool's size, and its wait for a
//   connection ends: the connections it waits for are held by units that have begun, which commit
//   on their own connections and never wait for a group, and by read batches. (When every unit
//   held a connection from its start, a group had to go on its first unit's: taking one from the
//   pool could wait on the units holding the rest, and no group held more units than the pool
//   had connections; decision 37.)
// - Refused units go again alone one after the other, each on a connection taken then: side by
//   side they would each need a connection at once, and could deadlock with each other.
import { context, type Context } from '@opentelemetry/api';
import pg from 'pg';
import { tracer } from '../observability/trace-context.ts';
import { RoundTrip, type Statement } from './pg-round-trip.ts';
import { refusedByServer, sessionEnded } from './pg-errors.ts';
import type { Connections } from './pg-read-group.ts';

/** A write a unit of work held for its end (pg-unit-connection.ts), and who waits for its answer. */
export interface Held {
  statement: Statement;
  values?: unknown[];
  resolve(result: pg.QueryResult): void;
  reject(err: unknown): void;
}

interface Member {
  held: Held[];
  /** The unit's own context: the group's round trip is traced in the first's, a span marks each other's. */
  context: Context;
  settle(err?: unknown): void;
}

/**
 * What a store is told of its groups: each one the server refused, by the SQLSTATE it answered
 * (`40P01`: a deadlock, with a single unit or another process; `not-sent`: never sent). Its units
 * went again alone; a count of these is how often grouping cost a second round trip.
 */
export interface CommitGroupObserver {
  refused(code: string): void;
}

export class CommitGroup {
  private waiting: Member[] = [];
  private out = false;
  private scheduled = false;

  private readonly connections: Connections;
  private readonly observer: CommitGroupObserver | undefined;

  constructor(connections: Connections, observer?: CommitGroupObserver) {
    this.connections = connections;
    this.observer = observer;
  }

  /** Commits a unit's held writes, with those of the units ending in the same turn; settles once they are kept or refused. */
  commit(held: Held[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ held, context: context.active(), settle: (err) => (err === undefined ? resolve() : reject(err)) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.out) return;
    this.scheduled = true;
    // At the end of the turn: every unit ending in it joins.
    setImmediate(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    const members = this.waiting;
    this.waiting = [];
    if (members.length === 0) return;
    this.out = true;
    try {
      const { refused } = await this.onConnection(members, (client) => (members.length === 1 ? alone(client, members[0]!) : together(client, members, this.observer)));
      // Nothing of the group was kept: each unit again, alone, one after the other, each on a
      // connection taken then (the group's may be what kept it from being sent).
      if (refused) for (const m of members) await this.onConnection([m], (client) => alone(client, m));
    } finally {
      this.out = false;
      if (this.waiting.length) this.schedule();
    }
  }

  /**
   * Runs `send` on a connection of the store's pool, given back once it has settled: closed
   * rather than reused when the server ended its session. When there is no connection to be had
   * (the store closed, the pool's connect timed out), or `send` throws, `members` fail with that:
   * a unit left unsettled would wait for good (one already settled keeps its outcome).
   */
  private async onConnection(members: Member[], send: (client: pg.PoolClient) => Promise<Outcome>): Promise<Outcome> {
    let client: pg.PoolClient | undefined;
    // The connection's 'error' event while the group holds it (the server ended the backend): the
    // round trip fails with it too.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken ??= err);
    try {
      client = await this.connections.connect();
      client.on('error', onError);
      const outcome = await send(client);
      // The server ended the session (its 'error' event comes later, once the socket closes).
      if (outcome.failure !== undefined && sessionEnded(outcome.failure)) broken ??= outcome.failure as Error;
      return outcome;
    } catch (err) {
      for (const m of members) {
        for (const h of m.held) h.reject(err);
        m.settle(err);
      }
      broken ??= err as Error;
      return { failure: err, refused: false };
    } finally {
      client?.off('error', onError);
      client?.release(broken);
    }
  }
}

/** How a round trip of a group's went: the failure that settled its units, if any, or a refusal that left them to go again alone. */
interface Outcome {
  failure?: unknown;
  refused: boolean;
}

/** One unit's writes and the Sync that ends them, as decision 28 sends them. */
async function alone(client: pg.PoolClient, m: Member): Promise<Outcome> {
  const trip = new RoundTrip();
  for (const h of m.held) trip.add(h.statement, h.values).then(h.resolve, h.reject);
  context.with(m.context, () => client.query(trip as never));
  try {
    await trip.done;
    m.settle();
    return { refused: false };
  } catch (err) {
    m.settle(err);
    return { failure: err, refused: false };
  }
}

/** The units' writes in one round trip: each settled, or all refused, to go again alone. */
async function together(client: pg.PoolClient, members: Member[], observer: CommitGroupObserver | undefined): Promise<Outcome> {
  const trip = new RoundTrip();
  const answers = members.map((m) =>
    m.held.map((h) => {
      const answer = trip.add(h.statement, h.values);
      answer.catch(() => {});
      return answer;
    }),
  );
  // The first unit's trace has the group's round trip (all its statements); the others' a span each.
  const spans = members.slice(1).map((m) => tracer.startSpan('pg commit in a group', { attributes: { 'db.system.name': 'postgresql', 'db.operation.batch.size': members.length } }, m.context));
  context.with(members[0]!.context, () => client.query(trip as never));
  let failure: unknown;
  try {
    await trip.done;
  } catch (err) {
    failure = err;
  } finally {
    for (const span of spans) span.end();
  }
  if (failure === undefined) {
    members.forEach((m, i) => {
      m.held.forEach((h, j) => answers[i]![j]!.then(h.resolve, h.reject));
      m.settle();
    });
    return { refused: false };
  }
  if (refusedWhole(failure, trip)) {
    observer?.refused(trip.sent ? ((failure as pg.DatabaseError).code ?? 'unknown') : 'not-sent');
    return { failure, refused: true };
  }
  for (const m of members) {
    for (const h of m.held) h.reject(failure);
    m.settle(failure);
  }
  return { failure, refused: false };
}

/**
 * The server refused the group and kept none of it (an ERROR of one of its statements, or of the
 * commit at its Sync: the implicit transaction is rolled back and the session goes on), or the
 * group was never sent (a value pg could not convert, a connection already closed): safe to send
 * again. Anything else leaves it unknown whether the group committed: a connection lost, or a
 * FATAL that ended the session (a backend terminated while it waited for its commit to reach a
 * synchronous standby has committed, yet answers FATAL).
 */
function refusedWhole(err: unknown, trip: RoundTrip): boolean {
  return !trip.sent || refusedByServer(err);
}
