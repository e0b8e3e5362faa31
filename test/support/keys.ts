// Keys the tests sign with: fixed per test run, passed to every deployable a test starts, so no
// test depends on a development key file or on a key written in the source.
import { randomBytes } from 'node:crypto';

export const TEST_JWT_SECRET = `test-jwt-${randomBytes(24).toString('hex')}`;
export const TEST_SERVICE_SECRET = `test-service-${randomBytes(24).toString('hex')}`;

/** The environment that gives a deployable the test keys. */
export const testKeysEnv = { JWT_SECRET: TEST_JWT_SECRET, SERVICE_JWT_SECRET: TEST_SERVICE_SECRET };
