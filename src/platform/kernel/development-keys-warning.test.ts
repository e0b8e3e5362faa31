// A deployable that serves with development keys where other machines can reach it says so at
// start: anyone who can read DATA_DIR/dev-keys.json could mint tokens for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDeployableConfig } from '../config/settings.ts';
import { createLogger } from '../logging/logger.ts';
import { createApp } from './create-app.ts';
import { busFixtures } from '../../../test/support/fixture-modules.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function startWith(env: Record<string, string>, host: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'keys-warning-'));
  dirs.push(dir);
  const modules = busFixtures();
  const { config, settings } = loadDeployableConfig(modules, { DATA_DIR: dir, SEED: 'false', ...env });
  const lines: string[] = [];
  const logger = createLogger('info', {}, { write: (line: string) => lines.push(line) });
  const app = await createApp({ config, settings, manifests: modules.map((m) => m.manifest), modules, deployable: 'monolith', logger });
  try {
    await app.listen({ port: 0, host, internalPort: 0, internalHost: '127.0.0.1' });
  } finally {
    await app.stop();
  }
  return lines.join('');
}

describe('development keys on a reachable address', () => {
  it('warns when the keys come from the development file and the app listens beyond loopback', async () => {
    expect(await startWith({}, '0.0.0.0')).toMatch(/serving with development keys/);
  });

  it('stays quiet on loopback, and with keys from the environment', async () => {
    expect(await startWith({}, '127.0.0.1')).not.toMatch(/development keys/);
    expect(await startWith({ JWT_SECRET: 'j'.repeat(40), SERVICE_JWT_SECRET: 's'.repeat(40) }, '0.0.0.0')).not.toMatch(/development keys/);
  });
});
