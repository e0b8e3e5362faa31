import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from './env.ts';
import { startTs } from '../../../test/support/processes.ts';

describe('configuration', () => {
  it('defaults to the embedded engine with demo data and the dev secret', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, DATA_DIR: './data', BUS: 'inprocess', storeEngine: 'sqlite', seed: true, jwtSecret: DEV_JWT_SECRET });
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

  it('refuses the development JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required in production/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toBe('x'.repeat(32));
  });

  it('stops `npm start` with a clear message when a variable is bad', { timeout: 120_000 }, async () => {
    const child = startTs('src/main.ts', { PORT: '99999', LOG_LEVEL: 'loud', DATA_DIR: join(mkdtempSync(join(tmpdir(), 'cfg-')), 'd') });
    const exit = await child.exited;
    expect(exit.code).toBe(78);
    expect(child.output()).toContain('Invalid configuration');
    expect(child.output()).toMatch(/PORT: .*"99999"/);
    expect(child.output()).toMatch(/LOG_LEVEL: .*"loud"/);
  });
});
