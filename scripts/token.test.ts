// `npm run token` signs with the same development key the app reads from DATA_DIR, so its tokens
// are accepted by a deployable on the same machine and by no other.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../lib/trust/index.ts';
import { loadConfig } from '../src/platform/config/env.ts';

const root = resolve(import.meta.dirname, '..');
const token = (env: Record<string, string>, ...args: string[]) =>
  execFileSync(process.execPath, ['scripts/token.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' }).trim().split('\n').pop()!;

describe('npm run token', () => {
  it('mints with the development key of DATA_DIR, which the app on that DATA_DIR accepts', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'token-')), 'data');
    const jwt = token({ DATA_DIR: dataDir }, '--sub', 'alice', '--scope', 'admin');
    const app = loadConfig({ DATA_DIR: dataDir });
    expect(await createTokenVerifier({ secret: app.jwtSecret! }).verify(jwt)).toEqual({ sub: 'alice', scopes: ['admin'] });
    const elsewhere = loadConfig({ DATA_DIR: join(dataDir, 'other-machine') });
    await expect(createTokenVerifier({ secret: elsewhere.jwtSecret! }).verify(jwt)).rejects.toThrow(/not valid/);
  });
});
