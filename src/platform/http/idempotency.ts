// Idempotency-Key on every write. The key is claimed in the same transaction as the effect
// (`record` inside the use case's unit of work), so concurrent duplicates serialise on the key's
// primary key: exactly one commits its effect, the others roll back and answer the stored first
// response. Same key with another body → 422. Keys expire after IDEMPOTENCY_TTL_SECONDS.
import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { and, eq, getTableColumns, lt, sql } from 'drizzle-orm';
import type { ModuleStore } from '../data/module-store.ts';
import { bound, placeholdersFor, preparedWrite, rowsNotAsExpected } from '../data/prepared-write.ts';
import { preparedRead } from '../data/prepared-read.ts';
import type { UnitOfWork } from '../bus/unit-of-work.ts';
import { currentContext } from '../context/request-context.ts';
import { defineError, ValidationFailed } from '../errors/domain-error.ts';
import { fixedLimit } from '../data/planned-once.ts';
import { deleteInBatches, type BatchedDelete } from '../data/delete-in-batches.ts';

export const IdempotencyKeyReused = defineError('IdempotencyKeyReused', 422, 'This Idempotency-Key was used with a different request');
/**
 * Another request held this key while this one ran, and its answer had expired by the time this
 * one looked for it: the key is free again, so the same request may be sent again with it.
 */
export const IdempotencyKeyContended = defineError('IdempotencyKeyContended', 409, 'Another request with this Idempotency-Key was being processed; send the request again with the same key');

export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface IdempotencyKey {
  /** Whether the request carries a key at all. */
  readonly present: boolean;
  /**
   * Claims the key inside the caller's unit of work, with the response this request will give.
   * When a live key holds it already (a concurrent duplicate committed first), the unit fails and
   * nothing of it is kept; the wrapper then answers with the first one's response. On Postgres the
   * claim goes with the unit's COMMIT, so that failure comes there.
   */
  record(uow: UnitOfWork, response: StoredResponse): Promise<void>;
}

interface KeyRow {
  requestHash: string;
  status: number | null;
  response: unknown;
  headers: Record<string, string> | null;
  expiresAt: Date;
}

/** The claim's statement name, as `${module}_${CLAIM}` in a RowsNotAsExpected. */
const CLAIM = 'idempotency_claim';

/**
 * The two statements of a keyed write, built once per store (prepared-write.ts): the lookup of a
 * key, and its claim, one upsert that takes the key when it is new or expired (an expired key may
 * be used afresh, every column of it written anew) and changes nothing when a live one holds it.
 */
function buildKeyStatements(store: ModuleStore) {
  const t = store.tables.idempotencyKeys;
  const excluded = (column: { name: string }) => sql`excluded.${sql.identifier(column.name)}`;
  const { scope, key, ...rest } = getTableColumns(t);
  const replaced = Object.fromEntries(Object.entries(rest).map(([name, column]) => [name, excluded(column)]));
  return {
    lookup: preparedRead<KeyRow>(store, `${store.module}_idempotency_key`, (db) =>
      db
        .select()
        .from(t)
        .where(and(eq(scope, bound(scope, 'scope')), eq(key, bound(key, 'key'))))
        .limit(fixedLimit(1)),
    ),
    // Held for the unit's COMMIT, and the database checks it changed its one row: on Postgres a
    // keyed unit whose other writes are held too goes in one round trip (prepared-write.ts).
    claim: preparedWrite<{ key: string }>(
      store,
      CLAIM,
      (db) =>
        db
          .insert(t)
          .values(placeholdersFor(t) as never)
          .onConflictDoUpdate({ target: [scope, key], set: replaced as never, setWhere: sql`${t.expiresAt} < ${excluded(t.createdAt)}` })
          .returning({ key }),
      { expectRows: 1 },
    ),
  };
}

// Per store, built on first use (the store opens before its migrations run), whichever of its
// routes takes a key first.
const keyStatementsOf = new WeakMap<ModuleStore, ReturnType<typeof buildKeyStatements>>();
function keyStatements(store: ModuleStore): ReturnType<typeof buildKeyStatements> {
  let statements = keyStatementsOf.get(store);
  if (!statements) keyStatementsOf.set(store, (statements = buildKeyStatements(store)));
  return statements;
}

const keyFormat = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * The request as one string, independent of key order. Recursive, which is safe: the JSON body
 * parser has already refused anything nested deeper than JSON_MAX_DEPTH.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function sendStored(res: Response, stored: StoredResponse, replayed: boolean): void {
  for (const [k, v] of Object.entries(stored.headers ?? {})) res.setHeader(k, v);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(stored.status).json(stored.body);
}

/**
 * Wraps a POST handler. The handler gets an IdempotencyKey and must call `record` inside the
 * unit of work that makes its effect, then send the same response with `sendStored`.
 */
export function idempotent(
  store: ModuleStore,
  ttlSeconds: number,
  handler: (req: Request, res: Response, key: IdempotencyKey) => Promise<void>,
): RequestHandler {
  return async (req, res) => {
    const raw = req.get('idempotency-key');
    if (raw === undefined) {
      await handler(req, res, { present: false, record: async () => {} });
      return;
    }
    if (!keyFormat.test(raw)) {
      throw new ValidationFailed('Idempotency-Key must be 1-200 letters, digits or ._:-', { issues: [{ path: 'header.idempotency-key', message: 'invalid format' }] });
    }
    // The key is scoped to the caller and the matched route (its pattern, not the path as sent),
    // and the request it stands for is the route's parameters plus the body: the same key on
    // another spelling of the same resource replays, and on another resource is refused as reuse.
    const pattern = req.route?.path !== undefined ? `${req.baseUrl}${String(req.route.path)}` : `${req.baseUrl}${req.path}`;
    const scope = `${currentContext()?.caller?.sub ?? 'anonymous'} ${req.method} ${pattern}`;
    const requestHash = createHash('sha256').update(canonical({ params: req.params, body: req.body })).digest('hex');

    const lookup = async () => {
      const row = (await keyStatements(store).lookup({ scope, key: raw }))[0];
      return row && row.expiresAt.getTime() > Date.now() ? row : undefined;
    };
    const answerFromStore = async (): Promise<boolean> => {
      const row = await lookup();
      if (!row) return false;
      if (row.requestHash !== requestHash) throw new IdempotencyKeyReused();
      sendStored(res, { status: row.status!, body: row.response, headers: row.headers ?? undefined }, true);
      return true;
    };

    if (await answerFromStore()) return;
    try {
      await handler(req, res, {
        present: true,
        async record(uow, response) {
          const now = new Date();
          await keyStatements(store).claim.later(uow.db, {
            scope,
            key: raw,
            requestHash,
            status: response.status,
            response: response.body,
            headers: response.headers ?? {},
            createdAt: now,
            expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
          });
        },
      });
    } catch (err) {
      // A live key held the claim (a concurrent duplicate committed first): this one's effect
      // rolled back with it, and the first one's answer is the answer.
      if (rowsNotAsExpected(err, `${store.module}_${CLAIM}`)) {
        if (await answerFromStore()) return;
        throw new IdempotencyKeyContended();
      }
      throw err;
    }
  };
}

/** Deletes expired keys, a bounded batch a statement; the kernel's housekeeping runs it. Resolves to how many went. */
export function sweepIdempotencyKeys(store: ModuleStore, options?: BatchedDelete): Promise<number> {
  const t = store.tables.idempotencyKeys;
  return deleteInBatches(store, t, [t.scope, t.key], lt(t.expiresAt, new Date()), options);
}
