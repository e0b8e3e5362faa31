// Several statements sent to Postgres as one round trip: each statement's extended-protocol
// messages (Parse when the connection has not prepared it yet, Bind, Describe, Execute) back to
// back in one socket write, then a single Sync. Postgres skips everything after an error up to the
// Sync, so a statement runs only if every one before it in the round trip succeeded: a BEGIN sent
// this way ahead of a write can never fail and leave the write to commit on its own, as it would in
// pg's pipeline mode, which ends every statement with a Sync of its own.
//
// It is a pg "submittable" (the interface pg-cursor and pg-query-stream use): pg queues it as one
// query and hands it the connection's messages, which it passes to the statement they answer,
// each a pg Query of its own that parses its rows and settles its own promise. (OpenTelemetry's pg
// instrumentation must keep `addSqlCommenterCommentToQueries` off, as instrumentations.ts has it:
// with it on, it copies a query object that has no name into a plain one, which drops `submit`.)
import pg from 'pg';
import utils from 'pg/lib/utils.js';
import { NotRun } from './not-run.ts';

export { NotRun };

type Connection = {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { cork?(): void; uncork?(): void; destroy?(err?: Error): void };
  parse(msg: { text: string; name?: string; types?: unknown[] }): void;
  bind(msg: { portal: string; statement?: string; values: unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal: string }): void;
  sync(): void;
};

/** The part of pg's Query a round trip drives; pg's typings do not describe it. */
interface PgQuery {
  text: string;
  name?: string;
  values?: unknown[];
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, con: Connection): void;
  handleEmptyQuery(con: Connection): void;
  handleError(err: Error, con: Connection): void;
  handleReadyForQuery(con: Connection): void;
  handleCopyInResponse(con: Connection): void;
}

export interface Statement {
  text: string;
  name?: string;
  rowMode?: 'array';
  types?: unknown;
}

export class RoundTrip {
  private readonly queries: PgQuery[] = [];
  /** Settles once every statement has: with the first failure, if one failed. */
  readonly done: Promise<void>;
  private settle!: (err?: Error) => void;
  // Which statement the connection's messages now answer; -1 until sent.
  private current = -1;
  /** The statement that kept the round trip from being sent (a name taken, a value pg cannot convert). */
  private refused: number | undefined;
  private settled = false;
  /** Why a statement added to it could not be made into a query; it is then never sent. */
  private unheld: Error | undefined;
  /**
   * Called once the round trip has settled. pg does not need it; OpenTelemetry's pg
   * instrumentation wraps it to end the span it opened for the round trip.
   */
  callback: (err: Error | null) => void = () => {};

  /**
   * A round trip queued before this one on the same connection, which must have been sent for
   * this one to go: one that carried a unit's BEGIN or held writes and could not be sent left
   * this one to run outside the transaction, or without those writes. pg sends the next query
   * once the one before it failed to, so the check is made as this one is submitted.
   */
  private after: RoundTrip | undefined;
  /** Why it was not sent: the round trip it was to follow was not (its statements get NotRun). */
  private blocked: NotRun | undefined;
  /** What it failed with, once settled: what a round trip queued to follow it is told. */
  private failure: Error | undefined;

  constructor(after?: RoundTrip) {
    this.after = after;
    this.done = new Promise<void>((resolve, reject) => (this.settle = (err) => (err ? ((this.failure = err), reject(err)) : resolve())));
    this.done.catch(() => {});
  }

  /** Adds a statement; its promise settles with its own result, or with why it did not run. */
  add(statement: Statement | string, values?: unknown[]): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      const config = typeof statement === 'string' ? { text: statement } : statement;
      try {
        this.queries.push(new pg.Query(config as pg.QueryConfig, values, (err: Error | undefined, result: pg.QueryResult) => (err ? reject(err) : resolve(result))) as unknown as PgQuery);
      } catch (err) {
        // A statement pg cannot even hold (no config): sent without it, the round trip would run
        // what comes after it, a COMMIT included. So it is not sent at all.
        this.unheld ??= err as Error;
        reject(err);
      }
    });
  }

  get size(): number {
    return this.queries.length;
  }

  /** Whether its messages were written: one that failed before that ran nothing. */
  get sent(): boolean {
    return this.current >= 0;
  }

  /**
   * Whether it failed unsent because of one of its statements, which then has the error (every
   * other one has NotRun), rather than because of the connection (closed, not queryable).
   */
  get refusedAStatement(): boolean {
    return this.refused !== undefined;
  }

  // pg's client reads `name` and `text` of the query it is running when a Parse completes or
  // fails, to remember which named statements the connection holds: those of the statement the
  // messages answer now.
  get name(): string | undefined {
    return this.queries[this.current]?.name;
  }

  get text(): string {
    if (this.current >= 0) return this.queries[this.current]?.text ?? '';
    return this.queries.map((q) => q.text).join('; ');
  }

  submit(con: Connection): Error | null {
    // Everything that can fail is checked before anything is written: pg's own Query, failing to
    // convert a value after its Parse went out, closes it with a Sync, which would end the round
    // trip there and let what follows run regardless.
    // Every statement added gets NotRun: the one that could not be held already has its error.
    if (this.unheld) return this.refuse(-1, this.unheld);
    const after = this.after;
    // Checked once: the one before it need not be kept any longer.
    this.after = undefined;
    if (after && !after.sent) return (this.blocked = new NotRun(after.failure ?? new Error('it was not sent'), 'a round trip sent before it on the same connection could not be sent'));
    const prepared = (q: PgQuery) => (q.name ? (con.parsedStatements[q.name] ?? con.submittedNamedStatements[q.name]) : undefined);
    // pg's own check: one name, one statement text, per connection; and so within the round trip,
    // where the second Bind would otherwise run the first statement under the second's name.
    const named = new Map<string, string>();
    for (const [i, q] of this.queries.entries()) {
      const previous = prepared(q) ?? (q.name ? named.get(q.name) : undefined);
      if (previous !== undefined && previous !== q.text) return this.refuse(i, new Error(`Prepared statements must be unique - '${q.name}' was used for a different statement`));
      if (q.name) named.set(q.name, q.text);
    }
    const values: unknown[][] = [];
    for (const [i, q] of this.queries.entries()) {
      try {
        values.push((q.values ?? []).map((v) => utils.prepareValue(v)));
      } catch (err) {
        return this.refuse(i, err as Error);
      }
    }
    con.stream.cork?.();
    let writing = 0;
    try {
      for (const [i, q] of this.queries.entries()) {
        writing = i;
        // Checked as each is written: a name twice in one round trip is parsed once.
        if (prepared(q) === undefined) {
          con.parse({ text: q.text, name: q.name, types: (q as { types?: unknown[] }).types as never });
          if (q.name) con.submittedNamedStatements[q.name] = q.text;
        }
        con.bind({ portal: '', statement: q.name, values: values[i]!, valueMapper: (v) => v });
        con.describe({ type: 'P', name: '' });
        con.execute({ portal: '' });
      }
      con.sync();
    } catch (err) {
      // Some messages are written, corked, and no Sync: sent, the statements before this one would
      // run and wait for a Sync that never comes. The connection goes instead, its buffer unsent;
      // thrown, the error would escape pg's message handler and end the process. Closed with an
      // error, the socket's 'error' reaches pg's client before this round trip settles (both on
      // the next tick, that one queued first), so the client is marked unqueryable by the time
      // its holder releases it, and the pool drops it rather than hand it out again.
      con.stream.destroy?.(new Error('closed: a round trip to Postgres failed while it was being written, and could not be ended cleanly', { cause: err }));
      return this.refuse(writing, err as Error);
    } finally {
      con.stream.uncork?.();
    }
    this.current = 0;
    return null;
  }

  /** Sends nothing: pg hands `err` back to handleError, which gives it to statement `i`. */
  private refuse(i: number, err: Error): Error {
    this.refused = i;
    return err;
  }

  handleRowDescription(msg: unknown) {
    this.queries[this.current]?.handleRowDescription(msg);
  }

  handleDataRow(msg: unknown) {
    this.queries[this.current]?.handleDataRow(msg);
  }

  handleCommandComplete(msg: unknown, con: Connection) {
    this.queries[this.current]?.handleCommandComplete(msg, con);
    this.current++;
  }

  handleEmptyQuery(con: Connection) {
    this.queries[this.current]?.handleEmptyQuery(con);
    this.current++;
  }

  handleCopyInResponse(con: Connection) {
    this.queries[this.current]?.handleCopyInResponse(con);
  }

  handleCopyData() {}

  handlePortalSuspended() {}

  /** Every statement ran: each gets its result. */
  handleReadyForQuery(con: Connection) {
    if (this.settled) return;
    this.settled = true;
    for (const q of this.queries) q.handleReadyForQuery(con);
    this.settle();
    this.callback(null);
  }

  /**
   * A statement failed (or the connection did, or the round trip could not be sent): those before
   * it ran and get their results, it gets the error, and those after it, which Postgres skipped,
   * get NotRun. pg goes on to its next query once the Sync's ReadyForQuery arrives.
   */
  handleError(err: Error, con: Connection) {
    if (this.settled) return;
    this.settled = true;
    if (this.current < 0 && this.blocked) {
      // Nothing of it was written, for the round trip it was to follow was not: none ran.
      this.settle(err);
      for (const q of this.queries) q.handleError(this.blocked, con);
      this.callback(err);
      return;
    }
    if (this.current < 0) {
      // Nothing was written, so nothing ran: the statement that kept it from being sent has the
      // error (the first, when it was the connection's), every other one NotRun.
      // `done` first: its owner (a unit of work) learns that nothing ran before a statement's
      // caller can send its next one.
      this.settle(err);
      const failing = this.refused ?? 0;
      this.queries.forEach((q, i) => q.handleError(i === failing ? err : new NotRun(err), con));
      this.callback(err);
      return;
    }
    const failing = this.current;
    this.queries.forEach((q, i) => {
      if (i < failing) return q.handleReadyForQuery(con);
      // Skipped: the Parse it sent (if any) never ran, so the connection does not hold it.
      if (i > failing && q.name && con.submittedNamedStatements) delete con.submittedNamedStatements[q.name];
      q.handleError(i === failing ? err : new NotRun(err), con);
    });
    this.settle(err);
    this.callback(err);
  }
}
