import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, loadConfig } from './env.ts';
import { startTs } from '../../../test/support/processes.ts';

describe('configuration', () => {
  it('defaults to the embedded engine, demo data, loopback, and keys generated into DATA_DIR rather than written in the source', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'data');
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c).toMatchObject({ PORT: 3000, INTERNAL_PORT: 4000, HOST: '127.0.0.1', BUS: 'inprocess', storeEngine: 'sqlite', seed: true, keySource: 'development-file' });
    const file = join(dataDir, 'dev-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keys = JSON.parse(readFileSync(file, 'utf8'));
    expect(c.jwtSecret).toBe(keys.jwtSecret);
    expect(c.serviceJwtSecret).toBe(keys.serviceSecret);
    // A second process on the machine reads the same keys.
    expect(loadConfig({ DATA_DIR: dataDir }).jwtSecret).toBe(c.jwtSecret);
    // Another machine (another DATA_DIR) has its own.
    expect(loadConfig({ DATA_DIR: join(dataDir, 'elsewhere') }).jwtSecret).not.toBe(c.jwtSecret);
  });

  it('puts internal endpoints on their own port, never the public one', () => {
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32), SERVICE_JWT_SECRET: 'y'.repeat(32), PORT: '3103' }).INTERNAL_PORT).toBe(4103);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32), SERVICE_JWT_SECRET: 'y'.repeat(32), PORT: '0' }).INTERNAL_PORT).toBe(0);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), SERVICE_JWT_SECRET: 'y'.repeat(32), PORT: '3000', INTERNAL_PORT: '3000' })).toThrow(/INTERNAL_PORT: must differ from PORT/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), SERVICE_JWT_SECRET: 'y'.repeat(32), PORT: '65000' })).toThrow(/INTERNAL_PORT/);
  });

  it('switches to Postgres when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' })).toMatchObject({ storeEngine: 'pg', seed: false });
  });

  it('names every bad variable, one line each, and hides secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'eighty', BUS: 'kafka', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(4);
    expect(error!.problems.find((p) => p.startsWith('PORT:'))).toContain('"eighty"');
    expect(error!.problems.find((p) => p.startsWith('BUS:'))).toMatch(/inprocess.*bullmq/);
    expect(error!.problems.find((p) => p.startsWith('DATABASE_URL:'))).toContain('postgres:');
    expect(error!.problems.find((p) => p.startsWith('JWT_SECRET:'))).toContain('"***"');
  });

  it('never reads or makes development keys in production: a missing key stops start-up naming the variable', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'data');
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir })).toThrow(/JWT_SECRET: is required in production/);
    const c = loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(32) });
    expect(c).toMatchObject({ jwtSecret: 'x'.repeat(32), serviceJwtSecret: undefined, keySource: 'environment', HOST: '0.0.0.0' });
    expect(() => statSync(join(dataDir, 'dev-keys.json'))).toThrow();
  });

  it('stops `npm start` with a clear message when a variable is bad', { timeout: 120_000 }, async () => {
    const child = startTs('src/main.ts', { PORT: '99999', LOG_LEVEL: 'loud', SAGA_POLL_MS: 'often', DATA_DIR: join(mkdtempSync(join(tmpdir(), 'cfg-')), 'd') });
    const exit = await child.exited;
    expect(exit.code).toBe(78);
    expect(child.output()).toContain('Invalid configuration');
    expect(child.output()).toMatch(/PORT: .*"99999"/);
    expect(child.output()).toMatch(/LOG_LEVEL: .*"loud"/);
    // A module's own setting is checked in the same pass, and says whose it is.
    expect(child.output()).toMatch(/SAGA_POLL_MS: .*"often".*\[orders\]/);
  });
});
