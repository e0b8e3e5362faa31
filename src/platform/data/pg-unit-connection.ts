// The connection a Postgres unit of work runs on, as drizzle sees it (its `client`). It is taken
// from the store's pool when the unit first sends something, not when the unit starts: a unit
// whose every write is held takes none at all, and its commit group sends them on a connection of
// its own (pg-commit-group.ts), so a group is not capped at the pool's size (decision 37). Statements
// that need no round trip of their own ride on ones that go anyway: the BEGIN goes out with the
// unit's first statement, and a write whose result the unit does not need (`later`: an outbox
// row, or a module's write marked so) goes out with the next statement or with the COMMIT. Each time in one RoundTrip (pg-round-trip.ts), so a write
// never runs outside the transaction, and the COMMIT never runs after a write that failed.
// Statements whose answers the unit needs but that do not depend on each other can go together,
// in one round trip (`together`). A unit that sent nothing sends no BEGIN and no COMMIT; one whose
// every statement was held sends neither too, only its writes and the Sync that ends them, with
// those of the store's other such units ending in the same turn (pg-commit-group.ts).
import type pg from 'pg';
import { RoundTrip, type Statement } from './pg-round-trip.ts';
import type { HoldsWrites } from './prepared-write.ts';
import { CommitGroup, type Held } from './pg-commit-group.ts';
import type { Connections } from './pg-read-group.ts';
import { OutsideUnitOfWork } from './module-store.ts';

/** A unit of work as its store's async context carries it: open until its callback settles. */
export interface UnitToken {
  open: boolean;
}

export class UnitConnection implements HoldsWrites {
  private begun = false;
  private held: Held[] = [];
  private holding = false;
  /** A held write that could not be held (laterWithAnswer): the COMMIT fails with it. */
  private failed: Promise<never> | undefined;
  private readonly connections: Connections;
  /** This unit's connection; each unit has its own, so a late answer from the pool reaches only the unit that asked. */
  private lease: Lease = newLease();
  /**
   * Where a unit whose writes were all held commits, with the store's others ending in its turn.
   * A unit given none has one of its own, on the same connections, where each such unit goes alone.
   */
  private readonly group: CommitGroup;
  /**
   * Whose statements this connection takes (`start`'s token), and the token of the unit whose
   * callback the caller runs in: a statement from anywhere else (work a unit left running, which
   * holds its `tx`) is refused. Without `current`, every caller is taken as the unit's.
   */
  private owner: UnitToken | undefined;
  private readonly current: (() => UnitToken | undefined) | undefined;

  constructor(connections: Connections, group: CommitGroup = new CommitGroup(connections), current?: () => UnitToken | undefined) {
    this.connections = connections;
    this.group = group;
    this.current = current;
  }

  /** A new unit of work: it takes a connection when it first sends, and its BEGIN goes then. */
  start(owner?: UnitToken): void {
    this.owner = owner;
    this.begun = false;
    this.held = [];
    this.failed = undefined;
    this.lease = newLease();
  }

  /** The connection the unit holds, if it took one and has it in hand (for a cancel request). */
  get connection(): pg.PoolClient | undefined {
    return this.lease.client;
  }

  /**
   * Gives the unit's connection back to the pool as the unit ends: closed rather than reused when
   * `broken` says so, or when the server ended the backend meanwhile. One still on its way (a unit
   * that timed out waiting for it) goes straight back when it comes, and what the unit had queued
   * for it is never sent.
   */
  end(broken?: Error): void {
    const lease = this.lease;
    lease.ended = true;
    const client = lease.client;
    if (!client) return;
    lease.client = undefined;
    client.off('error', lease.onError);
    client.release(broken ?? lease.broken);
  }

  /**
   * Runs `go` on the unit's connection: now if the unit has it, else once it comes, asking the
   * pool the first time. Sends queued meanwhile go in the order they were made, in the same
   * reaction that hands the connection over, so nothing the unit sends later can overtake them.
   */
  private on(go: (client: pg.PoolClient) => void, fail: (err: Error) => void): void {
    const lease = this.lease;
    if (lease.client) return go(lease.client);
    if (lease.ended) return fail(new Error('the unit of work has ended'));
    if (lease.unavailable) return fail(lease.unavailable);
    lease.queued.push({ go, fail });
    if (lease.asked) return;
    lease.asked = true;
    this.connections.connect().then(
      (client) => {
        const queued = lease.queued.splice(0);
        if (lease.ended) {
          // Nothing was sent on it: it goes back as it came.
          const err = new Error('the unit of work ended before its connection came');
          for (const q of queued) q.fail(err);
          client.release();
          return;
        }
        // Handled while the unit holds it: a backend the server ends mid-unit (a failover,
        // pg_terminate_backend) fails the unit's statements, and would also raise an unhandled
        // 'error' that took the process down.
        client.on('error', lease.onError);
        lease.client = client;
        for (const q of queued) {
          try {
            q.go(client);
          } catch (err) {
            q.fail(err as Error);
          }
        }
      },
      (err: Error) => {
        lease.unavailable = err;
        for (const q of lease.queued.splice(0)) q.fail(err);
      },
    );
  }

  /** Sends a round trip on the unit's connection; one that never reaches it fails as pg fails one it cannot send (pg-round-trip.ts). */
  private send(trip: RoundTrip): void {
    this.on(
      (client) => client.query(trip as never),
      (err) => trip.handleError(err, undefined as never),
    );
  }

  /**
   * A statement on its own, on the unit's connection (the unit has begun). While the round trip
   * that carries the unit's BEGIN or held writes is not yet sent, it goes in a round trip of its
   * own that is sent only if that one was (`guarded`: a ROLLBACK is not, it is harmless alone).
   * Such a round trip uses the extended protocol, as the unit's first statement always does, so
   * a text of several commands is refused there (it is sent as one only on pg's own path).
   */
  private run(statement: Statement | string, values?: unknown[], guarded = true): Promise<pg.QueryResult> {
    const opening = guarded ? this.unsentOpening() : undefined;
    if (opening) {
      const trip = new RoundTrip(opening);
      const result = trip.add(statement, values);
      this.send(trip);
      return result;
    }
    const client = this.lease.client;
    if (client) return client.query(statement as pg.QueryConfig, values);
    return new Promise((resolve, reject) => this.on((c) => void c.query(statement as pg.QueryConfig, values).then(resolve, reject), reject));
  }

  /** The unit's last round trip carrying its BEGIN or held writes, while it is not yet sent. */
  private unsentOpening(): RoundTrip | undefined {
    const opening = this.lease.opening;
    return opening && !opening.sent ? opening : undefined;
  }

  /**
   * Why a statement or held write from the caller is refused: it does not run in this unit's
   * callback (work a unit left running, which holds its `tx`). Checked before anything of the
   * unit's state is touched, so it cannot fail the unit that now has the connection.
   */
  private outsider(): OutsideUnitOfWork | undefined {
    if (!this.current) return undefined;
    const caller = this.current();
    if (caller !== this.owner || !caller?.open) return new OutsideUnitOfWork(caller === undefined ? 'outside' : 'ended');
    return undefined;
  }

  /** What drizzle calls for each statement. */
  query(config: Statement | string, values?: unknown[]): Promise<pg.QueryResult> {
    const statement = typeof config === 'string' ? { text: config } : config;
    const outsider = this.outsider();
    if (outsider) return Promise.reject(outsider);
    if (this.lease.lost) return Promise.reject(this.lease.lost);
    if (this.holding) {
      return new Promise((resolve, reject) => this.held.push({ statement, values, resolve, reject }));
    }
    if (this.begun && this.held.length === 0) return this.run(statement, values);
    const trip = this.trip();
    const result = trip.add(statement, values);
    this.send(trip);
    return result;
  }

  /**
   * Runs `write`, which must send exactly one statement before it returns, without a round trip
   * of its own: the statement is held and sent with whatever goes next. Its failure fails the
   * unit there (the statement it went with, or the COMMIT), so what this answers does not wait for
   * it: it settles at once, or fails when `write` failed before sending anything.
   */
  later(write: () => Promise<unknown>): Promise<void> {
    const held = this.hold([write], 'later');
    return Array.isArray(held) ? Promise.resolve() : held;
  }

  /**
   * As `later`, and answers what `write` answers once its statement has been sent and run: with
   * the unit's next statement, or with the COMMIT. Awaiting it before anything else is sent
   * would wait forever: read it after the unit.
   */
  laterWithAnswer<T>(write: () => Promise<T>): Promise<T> {
    const outsider = this.outsider();
    if (outsider) return Promise.reject(outsider);
    const held = this.hold([write], 'laterWithAnswer');
    if (Array.isArray(held)) return held[0] as Promise<T>;
    // Nothing is held: the unit must not commit without the write (its answer is read only
    // after the unit, too late to stop the COMMIT).
    held.catch(() => {});
    this.failed ??= held;
    return held;
  }

  /**
   * Runs each of `sends`, which must each send exactly one statement before it returns, and sends
   * those statements in one round trip (behind any held writes); answers what each answered. One
   * that fails leaves those after it unrun (NotRun) and fails the unit.
   */
  together<T extends readonly unknown[]>(sends: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
    const held = this.hold(sends as readonly (() => Promise<unknown>)[], 'together');
    if (!Array.isArray(held)) return held;
    this.send(this.trip());
    return Promise.all(held) as Promise<unknown> as Promise<T>;
  }

  /**
   * Runs `sends` with the statements they send held rather than sent; answers what each will
   * answer, or, when they did not send one statement each, a failure: at once if they sent any
   * (those are never sent), else once they settle, with a send's own error if one failed.
   */
  private hold(sends: readonly (() => Promise<unknown>)[], caller: string): Promise<unknown>[] | Promise<never> {
    const before = this.held.length;
    this.holding = true;
    let answers: Promise<unknown>[];
    try {
      answers = sends.map((send) => send());
    } finally {
      this.holding = false;
    }
    for (const a of answers) a.catch(() => {});
    if (this.held.length === before + sends.length) return answers;
    const misuse = new Error(`UnitConnection.${caller}: each write must send exactly one statement before it returns`);
    const unsent = this.held.splice(before);
    for (const h of unsent) h.reject(misuse);
    if (unsent.length) return Promise.reject(misuse);
    return Promise.all(answers).then(() => {
      throw misuse;
    });
  }

  async commit(): Promise<void> {
    if (this.lease.lost) throw this.lease.lost;
    if (this.failed) await this.failed;
    let committed: Promise<pg.QueryResult>;
    if (this.held.length === 0) {
      if (!this.begun) return;
      committed = this.run('COMMIT');
    } else if (!this.begun) {
      // The held writes are the whole unit: sent without BEGIN and COMMIT, they run as the implicit
      // transaction Postgres keeps from one Sync to the next, committed at the round trip's Sync
      // if every statement ran and rolled back if one failed (the COMMIT's own failure, a deferred
      // constraint, fails the Sync). Two statements fewer for each party to run. The unit never
      // took a connection: its group sends on one of its own.
      const held = this.held;
      this.held = [];
      return this.group.commit(held);
    } else {
      const trip = this.trip();
      committed = trip.add('COMMIT');
      committed.catch(() => {});
      this.send(trip);
      await trip.done;
    }
    // Postgres answers COMMIT in a transaction a failed statement aborted with ROLLBACK, not an
    // error: a unit that caught that statement's error and went on must not report success.
    if ((await committed).command === 'ROLLBACK') throw new Error('the unit of work was rolled back: a statement in it failed, and its error was caught');
  }

  /** The unit ends without a ROLLBACK (its connection is being closed): its held writes are never sent. */
  abandon(err: Error): void {
    for (const h of this.held) h.reject(err);
    this.held = [];
  }

  async rollback(): Promise<void> {
    this.abandon(new Error('rolled back before it was sent'));
    // Its connection has not come (or never will): nothing of the unit went out, so there is
    // nothing to roll back and no connection to wait for; it goes straight back when it comes.
    if (!this.lease.client) {
      this.lease.ended = true;
      return;
    }
    if (this.begun) await this.run('ROLLBACK', undefined, false);
  }

  /** A round trip holding the BEGIN if it is still to go, then every held write. */
  private trip(): RoundTrip {
    const lease = this.lease;
    const trip = new RoundTrip(this.unsentOpening());
    lease.opening = trip;
    // Told before the statement's own error reaches the unit (RoundTrip settles `done` first), and
    // to the unit that sent it only: once that unit has ended, its handle may serve another.
    trip.done.catch((err: Error) => {
      if (!trip.sent) lease.lost ??= new Error(`the unit of work cannot go on: a round trip carrying its BEGIN or held writes could not be sent (${err.message})`, { cause: err });
    });
    if (!this.begun) {
      trip.add('BEGIN').catch(() => {});
      this.begun = true;
    }
    for (const h of this.held) trip.add(h.statement, h.values).then(h.resolve, h.reject);
    this.held = [];
    return trip;
  }
}

/** A unit's connection: asked of the pool when the unit first sends, given back when it ends. */
interface Lease {
  client: pg.PoolClient | undefined;
  asked: boolean;
  /** The unit's last round trip that carried its BEGIN or held writes: what follows it goes only if it was sent. */
  opening: RoundTrip | undefined;
  /** Sends made while the connection was on its way, in the order made. */
  queued: { go(client: pg.PoolClient): void; fail(err: Error): void }[];
  /** Why the pool gave none: every send of the unit fails with it. */
  unavailable: Error | undefined;
  /**
   * A round trip of the unit's that pg refused before sending it (a value it cannot convert, a
   * statement name taken): it ran nothing, so its BEGIN did not open the transaction and its held
   * writes were lost. The unit may have caught its statement's error; it runs nothing more, and
   * fails rather than commit without them.
   */
  lost: Error | undefined;
  /** The unit ended before the connection came: it goes straight back, nothing sent on it. */
  ended: boolean;
  /** What the connection's 'error' event said while the unit held it: the server ended the backend. */
  broken: Error | undefined;
  onError(err: Error): void;
}

function newLease(): Lease {
  const lease: Lease = {
    client: undefined,
    asked: false,
    opening: undefined,
    queued: [],
    unavailable: undefined,
    lost: undefined,
    ended: false,
    broken: undefined,
    onError: (err) => void (lease.broken ??= err),
  };
  return lease;
}
