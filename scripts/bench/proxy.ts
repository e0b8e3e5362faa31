// Bench: the strangler proxy vs nginx (Debian's package, plain reverse proxy with an upstream
// keep-alive pool) vs no proxy, in front of the same fixed upstream, in one run. Figures: saturated
// throughput, then latency at half of the proxy's saturation; "added" = minus the no-proxy figure.
// Writes the `proxy` section of docs/benchmarks.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { table, writeSection } from './report.ts';

const root = resolve(import.meta.dirname, '../..');
const SATURATE_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const PATH = '/api/v1/products/A-1';

const UPSTREAM_SOURCE = `
const http = require('node:http');
const body = JSON.stringify({ sku: 'A-1', name: 'Bench product', price: { amount: 1299, currency: 'EUR' }, tags: ['a', 'b'] });
const server = http.createServer((req, res) => {
  if (req.url === '/health/ready') { res.end('ok'); return; }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.send && process.send('ready'));
`;

function freePort(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}

async function waitHttp(url: string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startChild(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function nginxBinary(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

async function startNginx(bin: string, port: number, upstreamPort: number): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child = startChild(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  await waitHttp(`http://127.0.0.1:${port}${PATH}`, 'nginx');
  return child;
}

async function startProxy(port: number, upstreamPort: number, workers: string): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
  const configPath = join(dir, 'config.json');
  // A realistic route: the products module half-extracted (both sides point at the same fixed
  // upstream so only the proxy differs), sticky assignment computed on every request.
  writeFileSync(
    configPath,
    JSON.stringify({
      pools: {
        monolith: { instances: [`http://127.0.0.1:${upstreamPort}`] },
        catalog: { instances: [`http://127.0.0.1:${upstreamPort}`] },
      },
      routes: [{ name: 'catalog', prefix: '/api/v1/products', old: 'monolith', new: 'catalog', weight: 50 }],
    }),
  );
  const child = startChild(process.execPath, ['--import', 'tsx', 'proxy/src/main.ts'], {
    PROXY_PORT: String(port),
    PROXY_CONFIG: configPath,
    PROXY_WORKERS: workers,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  });
  await waitHttp(`http://127.0.0.1:${port}${PATH}`, 'proxy');
  return child;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, seconds: number, rate?: number): Promise<Figures> {
  const result = await autocannon({
    url: url + PATH,
    connections: rate ? Math.min(CONNECTIONS, 32) : CONNECTIONS,
    duration: seconds,
    ...(rate ? { overallRate: Math.round(rate) } : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export async function run(): Promise<void> {
  const nginx = nginxBinary();
  if (!nginx) {
    console.log(
      'nginx is not installed, so the nginx column is skipped. Install it (Debian/Ubuntu) with:\n' +
        '  sudo apt-get update && sudo apt-get install -y nginx\n' +
        'then run `npm run bench -- proxy` again.',
    );
  }
  const upstreamPort = freePort();
  const upstream = spawn(process.execPath, ['-e', UPSTREAM_SOURCE, String(upstreamPort)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((r) => upstream.once('message', r));

  const workersN = availableParallelism();
  const targets: { name: string; start: () => Promise<ChildProcess | undefined>; url: string }[] = [];
  const directUrl = `http://127.0.0.1:${upstreamPort}`;
  targets.push({ name: 'no proxy', url: directUrl, start: async () => undefined });
  if (nginx) {
    const port = freePort();
    targets.push({ name: `nginx (${workersN} workers)`, url: `http://127.0.0.1:${port}`, start: () => startNginx(nginx, port, upstreamPort) });
  }
  for (const workers of ['1', String(workersN)]) {
    const port = freePort();
    targets.push({
      name: `strangler proxy (${workers} worker${workers === '1' ? '' : 's'})`,
      url: `http://127.0.0.1:${port}`,
      start: () => startProxy(port, upstreamPort, workers),
    });
  }

  const saturated = new Map<string, Figures>();
  const half = new Map<string, Figures>();
  try {
    // Pass 1: saturation throughput of each target.
    for (const t of targets) {
      const child = await t.start();
      try {
        await load(t.url, 2); // warm up (JIT, keep-alive pools)
        const f = await load(t.url, SATURATE_SECONDS);
        saturated.set(t.name, f);
        console.log(`${t.name}: ${Math.round(f.rps)} req/s saturated, p50 ${f.p50} ms, p99 ${f.p99} ms, errors ${f.errors}`);
      } finally {
        if (child) await stopChild(child);
      }
    }
    // Pass 2: latency at half of the (single-worker) proxy's saturation, the same rate for everyone.
    const proxyRps = saturated.get(targets.find((t) => t.name.startsWith('strangler proxy (1'))!.name)!.rps;
    const rate = proxyRps / 2;
    for (const t of targets) {
      const child = await t.start();
      try {
        await load(t.url, 2, rate);
        const f = await load(t.url, LATENCY_SECONDS, rate);
        half.set(t.name, f);
        console.log(`${t.name} at ${Math.round(rate)} req/s: p50 ${f.p50} ms, p99 ${f.p99} ms, errors ${f.errors}`);
      } finally {
        if (child) await stopChild(child);
      }
    }
  } finally {
    await stopChild(upstream);
  }

  const direct = saturated.get('no proxy')!;
  const directHalf = half.get('no proxy')!;
  const nginxName = targets.find((t) => t.name.startsWith('nginx'))?.name;
  const nginxRps = nginxName ? saturated.get(nginxName)!.rps : undefined;
  const rows = targets.map((t) => {
    const s = saturated.get(t.name)!;
    const h = half.get(t.name)!;
    return [
      t.name,
      Math.round(s.rps),
      nginxRps ? (s.rps / nginxRps).toFixed(2) : 'n/a',
      (s.rps / direct.rps).toFixed(2),
      h.p50,
      h.p99,
      t.name === 'no proxy' ? '—' : (h.p50 - directHalf.p50).toFixed(2),
      t.name === 'no proxy' ? '—' : (h.p99 - directHalf.p99).toFixed(2),
      s.errors + h.errors,
    ];
  });
  const md = `## Strangler proxy

Fixed upstream (node:http, ~100-byte JSON, keep-alive) measured directly, behind nginx (plain
reverse proxy, upstream keep-alive pool of 128, \`worker_processes auto\`) and behind the strangler
proxy (\`proxy/src/main.ts\`, a route at weight 50 so side assignment runs on every request; 1 worker,
and one worker per core with \`PROXY_WORKERS\`). Saturation: autocannon, ${CONNECTIONS} connections,
${SATURATE_SECONDS} s after a 2 s warm-up. Latency: the same fixed rate for every target, half of
the single-worker proxy's saturated throughput (${Math.round(rate(saturated, targets))} req/s). Load generator, upstream and
proxy share the machine's ${availableParallelism()} cores, so absolute figures are low; read the ratios.
Bar (issue 8): ≥ 0.5 of nginx's throughput (aim 0.8), < 1 ms added p99 at half saturation.

${table(['target', 'req/s saturated', 'vs nginx', 'vs no proxy', 'p50 ms @½', 'p99 ms @½', 'added p50 ms', 'added p99 ms', 'errors'], rows)}
${nginx ? '' : '\nnginx was not installed for this run (`sudo apt-get install -y nginx`), so it has no row.\n'}`;
  writeSection('proxy', md);
  console.log(md);
}

function rate(saturated: Map<string, Figures>, targets: { name: string }[]): number {
  const name = targets.find((t) => t.name.startsWith('strangler proxy (1'))!.name;
  return saturated.get(name)!.rps / 2;
}
