// Every way the app's deployables start carries the same Node options (scripts/deploy/runtime-flags.ts):
// package.json's scripts, each image's CMD, the service env file's hint and docs/deploy.md.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dockerfile } from '../../scripts/deploy/dockerfile.ts';
import { checkoutStartCommand, RUNTIME_FLAGS, SOURCE_PRELOAD } from '../../scripts/deploy/runtime-flags.ts';
import { serviceEnvFile } from '../../scripts/deploy/service-env.ts';
import type { Deployable } from '../../scripts/deploy/split-system.ts';

const root = resolve(import.meta.dirname, '../..');
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;

const deployable = (kind: Deployable['kind'], module?: string): Deployable => ({
  name: module ? `${module}-service` : kind,
  kind,
  module,
  folder: module ?? kind,
  port: 3000,
  internalPort: 4000,
  image: `shop/${kind}:1`,
  stores: [],
});

/** The exec-form CMD of a Dockerfile, as its argument list. */
const cmd = (text: string): string[] => JSON.parse(text.match(/^CMD (\[.*\])$/m)![1]!);

describe('start commands', () => {
  it('npm start and npm run service start through their cached build with the runtime flags and the compile cache preloaded', () => {
    expect(scripts.start).toBe(checkoutStartCommand('src/main.ts'));
    expect(scripts.service).toBe(checkoutStartCommand('src/service.ts'));
    expect(existsSync(join(root, SOURCE_PRELOAD[1]))).toBe(true);
  });

  it("each app image's CMD passes the same runtime flags to its bundle; the proxy's passes none of them", () => {
    expect(cmd(dockerfile(deployable('monolith'), { dockerfilePath: 'deploy/monolith/Dockerfile' }))).toEqual(['node', ...RUNTIME_FLAGS, 'dist/monolith.mjs']);
    expect(cmd(dockerfile(deployable('service', 'payments'), { dockerfilePath: 'deploy/payments/Dockerfile' }))).toEqual(['node', ...RUNTIME_FLAGS, 'dist/service.mjs']);
    expect(cmd(dockerfile(deployable('proxy'), { dockerfilePath: 'deploy/proxy/Dockerfile' }))).toEqual(['node', 'dist/proxy.mjs']);
    expect(cmd(readFileSync(join(root, 'deploy/monolith/Dockerfile'), 'utf8'))).toEqual(['node', ...RUNTIME_FLAGS, 'dist/monolith.mjs']);
  });

  it("the service env file's hint and docs/deploy.md give the same flags", () => {
    const env = serviceEnvFile({ module: 'payments', port: 3103, internalPort: 4103, monolithUrls: ['http://127.0.0.1:4000'], redisUrl: 'redis://127.0.0.1:6379', dataDir: 'data', topologyFile: 'topology.json' });
    expect(env).toContain(`node ${RUNTIME_FLAGS.join(' ')} deploy/payments/dist/service.mjs`);
    const docs = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
    expect(docs).toContain(`node ${RUNTIME_FLAGS.join(' ')} dist/<entry>.mjs`);
    expect(docs).toContain(SOURCE_PRELOAD.join(' '));
  });
});
