import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './databases.ts';

/** A BullMQ key prefix of the test's own, and a cleanup that deletes its keys. */
export function busPrefix(): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  return {
    prefix,
    async cleanup() {
      const r = new Redis(redisUrl());
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
      r.disconnect();
    },
  };
}
