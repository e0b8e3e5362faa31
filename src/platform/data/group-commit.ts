// Group commit for a SQLite writer connection. Units of work on one module store run one after
// another (there is one writer), and committing each alone costs a BEGIN, a COMMIT and a WAL
// append per unit. A group starts at the end of the event-loop turn that queued its first unit
// (setImmediate), so every unit started in that turn (requests parsed together, a relay batch
// delivered at once) and those that queue while it runs share one transaction, each in its own
// SAVEPOINT (but the first: it has nothing before it to protect), and are committed together:
// - a unit that throws is rolled back alone (to its savepoint, or the whole transaction if it
//   was the first); the others are unaffected;
// - every unit's promise, failed or not, settles only once the transaction has ended: a success
//   after the COMMIT that made it durable (or the failure that lost it), so a caller never acts on
//   work that could still vanish; a failure after the group's end too, so whatever the caller
//   does about it (a retry, a dead letter) is never read back by, nor mixed into, the
//   transaction still open;
// - the wait for the turn's end is one trip through the event loop (no timer): nothing idles;
// - units still queued once a group has ended (the next step of what it settled, or those its
//   caps left) wait for the next turn too, not for a group at once: a chain of units that each
//   start as the last one commits (a loop of batches) would otherwise keep the drain in one run
//   of microtasks, no request would be read until it ended, and the units those requests start
//   could not join its groups;
// - a group is capped in units and in time so another process sharing the file (a module that is
//   migrating runs in the monolith and as a service) is not kept from the write lock for long;
// - a unit is running from its start until its callback settles, or until it has run for
//   `unitTimeoutMs` (then it fails and is rolled back as if it had thrown): the store lets a
//   statement on the writer run only for the running unit (sqlite-store.ts), so work a unit left
//   behind cannot write into the next one, and a unit that never settles (one awaiting a unit of
//   its own group, which settles only at this group's commit) cannot hold the writer for ever.
import type Database from 'better-sqlite3';
import { UnitTimedOut } from './module-store.ts';

export { UnitTimedOut };

interface Unit {
  /** Lets the unit's work begin; settles as the work does. */
  start: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  maxUnits?: number;
  maxMs?: number;
  /** How long one unit may run before it fails with UnitTimedOut and is rolled back (Infinity: no limit). */
  unitTimeoutMs?: number;
  /**
   * Told of a unit that stopped running (its callback settled, or it timed out), before anything
   * else runs on the writer: the store closes the cursors it left open there, which would make the
   * next statement (a RELEASE, a timed-out unit's ROLLBACK, the next BEGIN) fail.
   */
  ended?: (token: UnitToken) => void;
}

/** Who is running a unit: the store's async context carries it to tell the unit's work from work it left behind. */
export type UnitToken = object;

export class TransactionLost extends Error {
  constructor(cause: unknown) {
    super(`the transaction this unit of work was committed in was rolled back by SQLite: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

export class GroupCommitter {
  private readonly queue: Unit[] = [];
  /** Set and cleared synchronously with the drain loop, so a unit queued just as it ends is never stranded. */
  private active = false;
  private draining: Promise<void> = Promise.resolve();
  private readonly writer: Database.Database;
  private readonly maxUnits: number;
  private readonly maxMs: number;
  private readonly unitTimeoutMs: number;
  /** The unit whose work may use the writer now, since when, and how to give up waiting for it. */
  private running: Unit | undefined;
  private runningSince = 0;
  private abandon: ((err: unknown) => void) | undefined;
  private readonly ended: ((token: UnitToken) => void) | undefined;
  private inGroup = false;
  private readonly stmt: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Database.Statement>;

  constructor(writer: Database.Database, options: GroupCommitOptions = {}) {
    this.writer = writer;
    // Prepared once: exec parses its SQL on every call, and these run for every unit.
    this.stmt = {
      begin: writer.prepare('BEGIN IMMEDIATE'),
      commit: writer.prepare('COMMIT'),
      rollback: writer.prepare('ROLLBACK'),
      savepoint: writer.prepare('SAVEPOINT uow'),
      release: writer.prepare('RELEASE uow'),
      rollbackTo: writer.prepare('ROLLBACK TO uow'),
    };
    this.maxUnits = options.maxUnits ?? 64;
    this.maxMs = options.maxMs ?? 10;
    this.unitTimeoutMs = options.unitTimeoutMs ?? 30_000;
    this.ended = options.ended;
    // A group that may take no unit would BEGIN and COMMIT nothing, forever, in microtasks.
    if (!(this.maxUnits >= 1) || !(this.maxMs > 0)) throw new RangeError(`group commit: maxUnits must be at least 1 and maxMs above 0 (got ${this.maxUnits}, ${this.maxMs})`);
    if (!(this.unitTimeoutMs > 0)) throw new RangeError(`group commit: unitTimeoutMs must be above 0 (got ${this.unitTimeoutMs})`);
  }

  /**
   * False when surely no transaction is open on the writer: no group is running, and the last one
   * ended its own. Cheaper than better-sqlite3's `inTransaction` (~130 ns a call), which tells
   * when it is true.
   */
  get mayBeInTransaction(): boolean {
    return this.inGroup;
  }

  /** Whether `token` is the unit running now: its callback has started and not settled, nor timed out. */
  isRunning(token: UnitToken): boolean {
    return token === this.running;
  }

  /** Runs `fn` as one atomic unit; resolves once it is committed. `fn` is given the unit's token. */
  run<R>(fn: (token: UnitToken) => Promise<R>): Promise<R> {
    // The drain loop that runs the unit carries the async context of whoever started it; each unit
    // must see its own caller's (request ids, trace; the store adds the unit's token). Its work is a
    // reaction to a promise the loop resolves, registered here, so it runs in this caller's
    // context: AsyncLocalStorage.snapshot() did the same at ~2 µs a unit, 11 units an order.
    let go!: () => void;
    const turn = new Promise<void>((r) => (go = r));
    let unit!: Unit;
    const work = turn.then(() => fn(unit));
    return new Promise<R>((resolve, reject) => {
      unit = { start: () => (go(), work), resolve: resolve as (v: unknown) => void, reject };
      this.queue.push(unit);
      if (!this.active) {
        this.active = true;
        // group() settles every unit itself; nothing is expected to escape, but if it does it
        // must not become an unhandled rejection that takes the process down.
        this.draining = new Promise<void>((turnEnded) => setImmediate(turnEnded)).then(() => this.drain()).catch(() => undefined);
      }
    });
  }

  /** Settles when every unit queued so far has settled. */
  async idle(): Promise<void> {
    while (this.active) await this.draining;
  }

  private async drain(): Promise<void> {
    // setInterval takes at most 2^31-1 ms (it runs a longer period every 1 ms instead).
    const watchdog = Number.isFinite(this.unitTimeoutMs) ? setInterval(() => this.timeOut(), Math.min(2 ** 31 - 1, Math.max(1, this.unitTimeoutMs / 4))) : undefined;
    try {
      while (this.queue.length > 0) {
        try {
          await this.group();
        } catch (err) {
          // group() settles the units it took; should anything escape it, the ones still waiting
          // fail with it rather than wait for a drain that is not coming.
          for (const u of this.queue.splice(0)) u.reject(err);
        }
        if (this.queue.length > 0) await new Promise<void>((turnEnded) => setImmediate(turnEnded));
      }
    } finally {
      clearInterval(watchdog);
      this.active = false;
    }
  }

  private timeOut(): void {
    const unit = this.running;
    if (unit === undefined || performance.now() - this.runningSince < this.unitTimeoutMs) return;
    const abandon = this.abandon!;
    this.running = this.abandon = undefined;
    try {
      this.ended?.(unit);
    } finally {
      abandon(new UnitTimedOut(this.unitTimeoutMs));
    }
  }

  /** Settles as the unit's work does, or with UnitTimedOut; the unit stops running as it settles. */
  private runUnit(unit: Unit): Promise<unknown> {
    this.running = unit;
    this.runningSince = performance.now();
    return new Promise((resolve, reject) => {
      this.abandon = reject;
      const end = () => {
        // Not once it has timed out: by then another unit may be running.
        if (this.running !== unit) return;
        this.running = this.abandon = undefined;
        this.ended?.(unit);
      };
      unit.start().then(
        (value) => (end(), resolve(value)),
        (err: unknown) => (end(), reject(err)),
      );
    });
  }

  private async group(): Promise<void> {
    this.inGroup = true;
    try {
      await this.runGroup();
    } finally {
      this.inGroup = this.writer.inTransaction;
    }
  }

  private async runGroup(): Promise<void> {
    const st = this.stmt;
    try {
      // A group whose ROLLBACK failed (a statement was still running on the writer) left its
      // transaction open: end it, or every BEGIN after it fails.
      if (this.writer.inTransaction) st.rollback.run();
      st.begin.run();
    } catch (err) {
      // The write lock stayed busy past busy_timeout (another process): the first unit fails as
      // a lone transaction would; the rest try again.
      this.queue.shift()!.reject(err);
      return;
    }
    const done: [Unit, unknown][] = [];
    // Units that failed and were rolled back alone: told only once the transaction has ended.
    const failed: [Unit, unknown][] = [];
    const settleFailed = () => {
      for (const [u, err] of failed) u.reject(err);
    };
    let current: Unit | undefined;
    try {
      const started = performance.now();
      while (this.queue.length > 0 && done.length + failed.length < this.maxUnits && performance.now() - started < this.maxMs) {
        current = this.queue.shift()!;
        // Until a unit has succeeded there is nothing in the transaction to protect: a failure
        // rolls the whole of it back and the next group begins afresh. That spares the savepoint
        // of every unit that runs alone, which is all of them when nothing waits.
        const alone = done.length === 0;
        if (!alone) st.savepoint.run();
        let value: unknown;
        try {
          value = await this.runUnit(current);
        } catch (err) {
          failed.push([current, err]);
          current = undefined;
          if (!this.writer.inTransaction) {
            this.lost(done, err);
            return settleFailed();
          }
          if (alone) {
            st.rollback.run();
            return settleFailed();
          }
          st.rollbackTo.run();
          st.release.run();
          continue;
        }
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction, and a unit may
        // have caught one and returned: then nothing it or those before it wrote is there.
        if (!this.writer.inTransaction) {
          this.lost([...done, [current, value]], new Error('the transaction ended inside the unit of work'));
          return settleFailed();
        }
        if (!alone) st.release.run();
        done.push([current, value]);
        current = undefined;
      }
      st.commit.run();
    } catch (err) {
      // A transaction-control statement failed (or COMMIT did): nothing of this group is stored.
      // Every unit of it is told, the ROLLBACK's own failure included (better-sqlite3 refuses every
      // statement while one is still running on the writer, such as an iterator a unit left open):
      // then the writer may still hold the transaction, and the units after fail at their BEGIN.
      let reason = err;
      if (this.writer.inTransaction) {
        try {
          st.rollback.run();
        } catch (rollbackErr) {
          reason = new Error(`${(err as Error).message}; its ROLLBACK failed too: ${(rollbackErr as Error).message}`, { cause: err });
        }
      }
      current?.reject(reason);
      for (const [u] of done) u.reject(reason);
      return settleFailed();
    }
    for (const [u, value] of done) u.resolve(value);
    settleFailed();
  }

  private lost(units: [Unit, unknown][], cause: unknown): void {
    for (const [u] of units) u.reject(new TransactionLost(cause));
  }
}
