#!/usr/bin/env node
// `npm run test:images`: builds every deployable's image with podman and runs the split system
// from them (test/deploy/*.flow.ts), through `npm test`'s runner, which finds or starts Postgres
// and Redis. Where podman cannot build or run an image it fails saying what to run; it never skips.
import { spawn, spawnSync } from 'node:child_process';

const base = process.env.TEST_IMAGE_BASE ?? 'localhost/node:24-local';
const fix = 'bash ../shared/tools/setup-containers.sh   (installs podman and runc, configures them, and makes the base image localhost/node:24-local)';

function fail(message) {
  console.error(`\n[test:images] ${message}\n  Run: ${fix}\n  or set TEST_IMAGE_BASE to a Node 24 image podman has.\n`);
  process.exit(1);
}

const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) fail('podman is not installed or does not run.');
const probe = spawnSync('podman', ['run', '--rm', '--network', 'host', base, 'node', '-e', 'process.exit(0)'], { encoding: 'utf8' });
if (probe.status !== 0) fail(`podman cannot run the base image ${base}:\n${(probe.stderr || probe.stdout || '').trim().split('\n').slice(-5).join('\n')}`);
console.log(`[test:images] ${version.stdout.trim()}, base image ${base}`);

const started = Date.now();
const tests = spawn(process.execPath, ['scripts/test.mjs', '--config', 'test/deploy/vitest.images.config.ts', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, TEST_IMAGE_BASE: base } });
tests.on('exit', (code, signal) => {
  console.log(`[test:images] ${Math.round((Date.now() - started) / 1000)} s`);
  process.exit(code ?? (signal ? 1 : 0));
});
