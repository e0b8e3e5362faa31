// Who did what to the migration, when, and from which value to which: every state-changing admin
// call by an authenticated operator, applied or refused. Kept durably — in Redis when REDIS_URL is
// set (one list every replica writes and reads, capped at the latest 10,000 entries), else as JSON
// lines in a file beside the config (appended one line per write, never rewritten) — and written
// to the proxy's log as well.
import { appendFile, open } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const REDIS_KEEP = 10_000;
/** The tail of the file read for the latest entries: far more than a page shows. */
const TAIL_BYTES = 256 * 1024;

export interface AuditEntry {
  at: string;
  /** The token's subject. */
  who: string;
  action: 'set-weight' | 'start-canary' | 'pause-canary' | 'resume-canary' | 'abort-canary' | 'replay-dead-letter';
  /** The route, or the dead letter (`module#seq at instance`). */
  target: string;
  from?: string | number;
  to?: string | number;
  outcome: 'applied' | 'refused' | 'failed';
  /** Why it was refused or failed, or what the deployable answered. */
  detail?: string;
  /** The proxy process that took the request. */
  proxy: string;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  latest(limit: number): Promise<AuditEntry[]>;
  /** Where entries are kept, for the page and the docs. */
  readonly where: string;
}

export function fileAuditLog(path: string, log: Logger): AuditLog {
  return {
    where: `file ${path}`,
    async append(entry) {
      log.info({ audit: entry }, `audit: ${entry.who} ${entry.action} ${entry.target} ${entry.outcome}`);
      // One write of one whole line with O_APPEND: workers appending at once never interleave lines.
      await appendFile(path, `${JSON.stringify(entry)}\n`, { flag: 'a', mode: 0o600 });
    },
    async latest(limit) {
      let handle;
      try {
        handle = await open(path, 'r');
      } catch {
        return [];
      }
      try {
        const { size } = await handle.stat();
        const start = Math.max(0, size - TAIL_BYTES);
        const buffer = Buffer.alloc(size - start);
        await handle.read(buffer, 0, buffer.length, start);
        const lines = buffer.toString('utf8').split('\n');
        // A tail that starts mid-line drops its first, partial line.
        if (start > 0) lines.shift();
        return lines
          .filter(Boolean)
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as AuditEntry];
            } catch {
              return [];
            }
          })
          .slice(-limit)
          .reverse();
      } finally {
        await handle.close();
      }
    },
  };
}

export function redisAuditLog(client: Redis, key: string, log: Logger): AuditLog {
  return {
    where: `Redis list ${key}`,
    async append(entry) {
      log.info({ audit: entry }, `audit: ${entry.who} ${entry.action} ${entry.target} ${entry.outcome}`);
      await client.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, REDIS_KEEP - 1).exec();
    },
    async latest(limit) {
      return (await client.lrange(key, 0, limit - 1)).map((line) => JSON.parse(line) as AuditEntry);
    },
  };
}
