import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { parseConfigText, readConfig, readRawConfig, writeConfig, ConfigError } from '../src/config-file.ts';
import { addRoutes, removeRoutes, setWeight } from '../src/config-edit.ts';
import type { ProxyConfigInput } from '../src/config-schema.ts';
import { tempConfig, waitFor } from './helpers.ts';
import { freePort } from '../../test/support/processes.ts';

const base: ProxyConfigInput = { pools: { monolith: { instances: ['http://127.0.0.1:3000'] } }, routes: [] };

describe('config file', () => {
  it('names the line and column of a JSON syntax error', () => {
    const text = '{\n  "pools": {\n    "monolith": { "instances": ["http://127.0.0.1:3000"], }\n  }\n}';
    expect(() => parseConfigText(text, 'cfg.json')).toThrow(/cfg\.json: invalid JSON at line 3, column \d+/);
  });

  it('names the field path of a schema violation', () => {
    const bad = { ...base, routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'nowhere', weight: 150 }] };
    let message = '';
    try {
      parseConfigText(JSON.stringify(bad), 'cfg.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('routes.0.weight');
    expect(message).toContain('routes.0.new: names unknown pool "nowhere"');
  });

  it('applies defaults: default pool monolith, round-robin, health checks on /health/ready', () => {
    const cfg = parseConfigText(JSON.stringify(base));
    expect(cfg.defaultPool).toBe('monolith');
    expect(cfg.pools.monolith!.balance).toBe('round-robin');
    expect(cfg.pools.monolith!.healthCheck.path).toBe('/health/ready');
  });

  it('the committed default config is valid', () => {
    const cfg = readConfig(new URL('../config.json', import.meta.url).pathname);
    expect(cfg.pools.monolith!.instances).toEqual(['http://127.0.0.1:3000']);
  });
});

describe('config edits for npm run extract', () => {
  it('addRoutes adds the module pool and its prefixes at weight 0 without touching the input', () => {
    const before = structuredClone(base);
    const after = addRoutes(base, { pool: 'orders', instances: ['http://127.0.0.1:4001'], prefixes: ['/api/v1/orders', '/api/v2/orders'] });
    expect(base).toEqual(before);
    expect(after.pools.orders).toEqual({ instances: ['http://127.0.0.1:4001'] });
    expect(after.routes).toEqual([
      { name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 },
      { name: 'orders-2', prefix: '/api/v2/orders', old: 'monolith', new: 'orders', weight: 0 },
    ]);
    expect(() => parseConfigText(JSON.stringify(after))).not.toThrow();
  });

  it('removeRoutes undoes addRoutes; setWeight changes one route', () => {
    const added = addRoutes(base, { pool: 'orders', instances: ['http://127.0.0.1:4001'], prefixes: ['/api/v1/orders'] });
    expect(setWeight(added, 'orders', 30).routes?.[0]?.weight).toBe(30);
    expect(() => setWeight(added, 'nope', 30)).toThrow(/no route named "nope"/);
    expect(removeRoutes(added, 'orders')).toEqual(base);
  });

  it('writeConfig refuses an invalid config and leaves the file as it was', () => {
    const path = tempConfig(base);
    const before = readFileSync(path, 'utf8');
    expect(() => writeConfig(path, { ...base, defaultPool: 'ghost' })).toThrow(/defaultPool/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    writeConfig(path, setWeight(addRoutes(readRawConfig(path), { pool: 'orders', instances: ['http://127.0.0.1:4001'], prefixes: ['/x'] }), 'orders', 5));
    expect(readConfig(path).routes[0]!.weight).toBe(5);
  });
});

describe('npm run proxy', () => {
  const run = (env: Record<string, string>) => {
    const child = spawn(process.execPath, ['proxy/src/main.ts'], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => out, exited };
  };

  it('stops at start with the line of a JSON error in the config', async () => {
    const path = tempConfig(base);
    writeFileSync(path, '{\n  "pools": {\n    "monolith": { "instances": [ }\n  }\n}');
    const p = run({ PROXY_CONFIG: path, PROXY_PORT: '0' });
    expect(await p.exited).toBe(78);
    expect(p.output()).toMatch(/invalid JSON at line 3/);
  });

  it('stops at start naming the bad field', async () => {
    const path = tempConfig({ ...base, routes: [{ name: 'x', prefix: 'no-slash', old: 'monolith', new: 'monolith' }] });
    const p = run({ PROXY_CONFIG: path, PROXY_PORT: '0' });
    expect(await p.exited).toBe(78);
    expect(p.output()).toContain('routes.0.prefix');
  });

  it('starts on PROXY_PORT and answers its probes', async () => {
    const path = tempConfig(base);
    const port = await freePort();
    const p = run({ PROXY_CONFIG: path, PROXY_PORT: String(port) });
    try {
      for (const probe of ['/health/live', '/health/ready', '/health/started']) {
        const res = await waitFor(() => fetch(`http://127.0.0.1:${port}${probe}`).then((r) => r.ok), `${probe} on the proxy`, 20_000);
        expect(res).toBe(true);
      }
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});
