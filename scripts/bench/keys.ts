// Keys a benchmark run signs with, passed to every deployable it starts: random per run, so no
// benchmark depends on a key file or on a key written in the source.
import { randomBytes } from 'node:crypto';

export const BENCH_JWT_SECRET = randomBytes(32).toString('base64url');
export const BENCH_SERVICE_SECRET = randomBytes(32).toString('base64url');
export const benchKeysEnv = { JWT_SECRET: BENCH_JWT_SECRET, SERVICE_JWT_SECRET: BENCH_SERVICE_SECRET };
