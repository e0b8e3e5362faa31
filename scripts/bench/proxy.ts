// Bench: the strangler proxy vs nginx (Debian's package, plain reverse proxy with an upstream
// keep-alive pool) vs no proxy, in front of the same fixed upstream, in one run. Figures: saturated
// throughput, then latency at half of the proxy's saturation; "added" = minus the no-proxy figure.
// Every proxy runs one worker pinned to the same core(s), the load generator, the probe and the
// upstream on the others (taskset), so the comparison measures the proxies, not the scheduler.
// Writes the `proxy` section of docs/benchmarks.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';
import { table, writeSection } from './report.ts';
import { freePort } from './harness.ts';
import { processTree, treeCpuMs } from './proc-figures.ts';
import { parseConfigText } from '../../proxy/src/config-file.ts';
import { renderNginx } from '../../proxy/src/export/nginx.ts';

const root = resolve(import.meta.dirname, '../..');
const SATURATE_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const LATENCY_CYCLES = Number(process.env.BENCH_LATENCY_CYCLES ?? 3);
const PATH = '/api/v1/products/A-1';

// Which cores the proxies get, and which the load generator, the probe (this process) and the
// upstream get. On a 2-core machine: the proxies on core 1, everything else on core 0.
const cores = availableParallelism();
const pinning = cores >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
const PROXY_CPUS = process.env.BENCH_PROXY_CPUS ?? String(cores - 1);
const LOAD_CPUS = process.env.BENCH_LOAD_CPUS ?? (cores > 2 ? `0-${cores - 2}` : '0');

/** `cmd args` as run on the proxies' cores (when pinning is possible). */
function onProxyCores(cmd: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', PROXY_CPUS, cmd, ...args]] : [cmd, args];
}

/** Pins this process (and so every child it starts unwrapped) to the load generator's cores; returns the undo. */
function pinSelfToLoadCores(): () => void {
  if (!pinning) return () => {};
  const before = /: (\S+)\s*$/.exec(spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).stdout)?.[1];
  spawnSync('taskset', ['-pc', LOAD_CPUS, String(process.pid)], { stdio: 'ignore' });
  return () => void (before && spawnSync('taskset', ['-pc', before, String(process.pid)], { stdio: 'ignore' }));
}

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


// The reference row: the least a single-threaded Node proxy can do, undici's dispatch() into the
// client's response with none of the strangler proxy's features (no routes, stickiness, edge
// headers, metrics, fallback). What separates it from nginx is Node; what separates the strangler
// proxy from it is our code.
const BARE_PROXY_SOURCE = `
const http = require('node:http');
const { Agent } = require(process.argv[3]);
const agent = new Agent({ pipelining: 1 });
const origin = 'http://127.0.0.1:' + process.argv[2];
class Handler {
  constructor(res) { this.res = res; }
  onRequestStart() {}
  onResponseStart(c, status, headers) { this.res.writeHead(status, headers); }
  onResponseData(c, chunk) { if (!this.res.write(chunk)) { c.pause(); this.res.once('drain', () => c.resume()); } }
  onResponseEnd() { this.res.end(); }
  onResponseError() { this.res.destroy(); }
}
http.createServer((req, res) => {
  const headers = { ...req.headers };
  delete headers.connection;
  agent.dispatch({ origin, path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, new Handler(res));
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

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

/** A proxy under test, on the proxies' cores. Its stdout (the access log) goes to /dev/null. */
function startChild(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const [bin, argv] = onProxyCores(cmd, args);
  const child = spawn(bin, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
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

/**
 * nginx from a throwaway prefix with one worker, its default access log (buffered, to /dev/null, as
 * the proxy's goes to its stdout) and `http` holding `httpBody`; ready once `url` answers.
 */
async function startNginxWith(bin: string, o: { what: string; url: string; httpBody: (dir: string) => string; loadModule?: string }): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${o.loadModule ? `load_module ${o.loadModule};\n` : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log /dev/null combined buffer=64k flush=1s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${o.httpBody(dir)}
}
`,
  );
  const child = startChild(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  await waitHttp(o.url, o.what);
  return child;
}

/** nginx as a plain reverse proxy, the way it is usually set up in front of an app. */
function startNginx(bin: string, port: number, upstreamPort: number): Promise<ChildProcess> {
  return startNginxWith(bin, {
    what: 'nginx',
    url: `http://127.0.0.1:${port}${PATH}`,
    httpBody: () => `  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
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
  }`,
  });
}

const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

/** The same route table the strangler proxy is benched with, run by nginx through `export nginx`. */
function startExportedNginx(bin: string, port: number, upstreamPort: number): Promise<ChildProcess> {
  const config = parseConfigText(benchRouteTable(upstreamPort));
  return startNginxWith(bin, {
    what: 'nginx driven by the export',
    url: `http://127.0.0.1:${port}${PATH}`,
    loadModule: NJS_MODULE,
    httpBody: (dir) => {
      writeFileSync(join(dir, 'strangler.conf'), renderNginx(config, { listen: `127.0.0.1:${port}`, keepalive: 128 }));
      return `  include ${dir}/strangler.conf;`;
    },
  });
}

/**
 * A realistic route: the products module half-extracted (both sides point at the same fixed
 * upstream so only the proxy differs), sticky assignment computed on every request.
 */
function benchRouteTable(upstreamPort: number): string {
  return JSON.stringify({
    pools: {
      monolith: { instances: [`http://127.0.0.1:${upstreamPort}`] },
      catalog: { instances: [`http://127.0.0.1:${upstreamPort}`] },
    },
    routes: [{ name: 'catalog', prefix: '/api/v1/products', old: 'monolith', new: 'catalog', weight: 50 }],
  });
}

/** `checkout`: where proxy/src/main.ts is (another checkout, for a before/after row in one run). */
async function startProxy(port: number, upstreamPort: number, checkout = root): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, benchRouteTable(upstreamPort));
  const child = startChild(process.execPath, [join(checkout, 'proxy/src/main.ts')], {
    PROXY_PORT: String(port),
    PROXY_INTERNAL_PORT: '0',
    // The default: one line per request at info (access-log.ts).
    PROXY_ACCESS_LOG: 'info',
    PROXY_CONFIG: configPath,
    PROXY_WORKERS: '1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  });
  await waitHttp(`http://127.0.0.1:${port}${PATH}`, 'proxy');
  return child;
}

interface Throughput {
  rps: number;
  /** Requests answered in the slice. */
  total: number;
  errors: number;
}

// In the latency pass every process of the measurement (each proxy's, the upstream, this probe and
// the load generators it starts) runs at this nice level, all alike: on a core shared with other people's CPU-bound work, a
// proxy woken by a request otherwise waits out their time slices (tens of ms at p99), which
// measures the neighbours. Root only (a negative nice needs it); the doc says whether it applied.
const LATENCY_NICE = Number(process.env.BENCH_LATENCY_NICE ?? -5);
const canRenice = process.getuid?.() === 0 && LATENCY_NICE !== 0 && spawnSync('renice', ['--version'], { stdio: 'ignore' }).status === 0;
function renice(pids: number[], level: number): void {
  if (canRenice && pids.length) spawnSync('renice', ['-n', String(level), '-p', ...pids.map(String)], { stdio: 'ignore' });
}

const AUTOCANNON = resolve(root, 'node_modules/autocannon/autocannon.js');

/** Saturated throughput: autocannon in a child process so it never shares an event loop with us. */
function saturate(url: string, seconds: number): Promise<Throughput> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds), url + PATH], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', () => {
      try {
        const r = JSON.parse(out) as { requests: { average: number; total: number }; errors: number; timeouts: number; non2xx: number };
        done({ rps: r.requests.average, total: r.requests.total, errors: r.errors + r.timeouts + r.non2xx });
      } catch (err) {
        fail(err);
      }
    });
  });
}

/** Background load at a fixed rate (autocannon -R), stopped by the caller. */
function backgroundLoad(url: string, rate: number, seconds: number): ChildProcess {
  return spawn(process.execPath, [AUTOCANNON, '-c', '32', '-R', String(Math.round(rate)), '-d', String(seconds + 5), url + PATH], {
    stdio: 'ignore',
  });
}

interface Latency {
  p50: number;
  p99: number;
  samples: number;
  errors: number;
}

/**
 * Latency with microsecond resolution (autocannon's histogram rounds to whole milliseconds, too
 * coarse to judge "< 1 ms added"): one keep-alive connection sends requests back to back while the
 * background load holds the target at the chosen rate.
 */
async function probe(url: string, seconds: number): Promise<Latency> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const ok = await new Promise<boolean>((done) => {
      const req = http.get(url + PATH, { agent }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
      });
      req.on('error', () => done(false));
    });
    if (ok) times.push(performance.now() - t0);
    else errors++;
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), samples: times.length, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Written by hand from a CPU profile: \`node --cpu-prof proxy/src/main.ts\` (1 worker on core 1,
// this bench's route table, access log at info) under autocannon -c 64 from core 0; shares of the
// worker's busy (non-idle) samples, grouped by where the code lives.
const PROFILE = `Where the proxy's time goes (CPU profile of the worker under saturated load, \`node --cpu-prof\`, one
worker on the proxies' core, this bench's route table, access log on; shares of its busy time):
Node's own JavaScript (HTTP parsing and responses, streams, events) 32%; socket writes (\`writev\` and
the header strings, most of it the kernel's loopback path) 24%; undici (the upstream client: request
building, its wasm parser, the pool) 20%; other native work 13%; GC 3%; the proxy's own code 7%
(edge headers and request ids 2%, the access log line 2%, the path check 1%, route decision and
stickiness 1%, metrics 0.1%). Before this change our code and prom-client were 12%: prom-client's
label children validate and hash their labels on every \`inc()\`/\`observe()\` even when cached (4%),
so the two per-request series are now plain numbers exported through its registry
(\`proxy/src/request-figures.ts\`); the sticky key of a cookie-less client and the pools' hashes
are kept per address and per pool (bounded). What remains is Node's HTTP stack and undici, which the
bare undici reference pays as well: the gap to nginx is the runtime, not the features.`;

export async function run(): Promise<void> {
  const loadBefore = loadavg()[0]!.toFixed(1);
  const nginx = nginxBinary();
  if (!nginx) {
    console.log(
      'nginx is not installed, so the nginx column is skipped. Install it (Debian/Ubuntu) with:\n' +
        '  sudo apt-get update && sudo apt-get install -y nginx\n' +
        'then run `npm run bench -- proxy` again.',
    );
  }
  const unpin = pinSelfToLoadCores();
  const upstreamPort = await freePort();
  const upstream = spawn(process.execPath, ['-e', UPSTREAM_SOURCE, String(upstreamPort)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((ready, fail) => {
    upstream.once('message', ready);
    upstream.once('exit', (code) => fail(new Error(`the bench upstream exited (${code})`)));
  });

  interface Target {
    name: string;
    url: string;
    start(): Promise<ChildProcess | undefined>;
  }
  const targets: Target[] = [{ name: 'no proxy', url: `http://127.0.0.1:${upstreamPort}`, start: async () => undefined }];
  if (nginx) {
    const port = await freePort();
    targets.push({ name: 'nginx (1 worker)', url: `http://127.0.0.1:${port}`, start: () => startNginx(nginx, port, upstreamPort) });
    if (existsSync(NJS_MODULE)) {
      const exportPort = await freePort();
      targets.push({ name: 'nginx driven by the export (1 worker, weight 50, sticky)', url: `http://127.0.0.1:${exportPort}`, start: () => startExportedNginx(nginx, exportPort, upstreamPort) });
    } else {
      console.log('nginx has no njs module, so the row of nginx driven by the export is skipped: apt-get install -y libnginx-mod-http-js');
    }
  }
  {
    const port = await freePort();
    const undiciPath = resolve(root, 'node_modules/undici/index.js');
    targets.push({
      name: 'reference: bare undici proxy (1 worker)',
      url: `http://127.0.0.1:${port}`,
      start: async () => {
        const child = startChild(process.execPath, ['-e', BARE_PROXY_SOURCE, String(port), String(upstreamPort), undiciPath]);
        await waitHttp(`http://127.0.0.1:${port}${PATH}`, 'the bare undici proxy');
        return child;
      },
    });
  }
  const proxyOne = 'strangler proxy (1 worker)';
  {
    const port = await freePort();
    targets.push({ name: proxyOne, url: `http://127.0.0.1:${port}`, start: () => startProxy(port, upstreamPort) });
  }
  // BENCH_PROXY_BEFORE=<another checkout>: its proxy as one more row, to compare a change in one run.
  const before = process.env.BENCH_PROXY_BEFORE;
  if (before) {
    const port = await freePort();
    targets.push({ name: `strangler proxy before the change (1 worker)`, url: `http://127.0.0.1:${port}`, start: () => startProxy(port, upstreamPort, resolve(before)) });
  }

  const rps = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const vsNginx = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  // CPU time per request of each proxy's processes in the saturated slices, and per cycle nginx's
  // over the target's: the throughput each would have on the same CPU time. Other people's work on
  // the shared core changes how much CPU a slice gets (and so its req/s) far more than it changes
  // what a request costs.
  const cpuPerRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const cpuVsNginx = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const errors = new Map<string, number>(targets.map((t) => [t.name, 0]));
  const lat = new Map<string, Latency[]>(targets.map((t) => [t.name, []]));
  const addedP50 = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const addedP99 = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  /** Per latency cycle: the target's added p99 over nginx's in the same cycle. */
  const p99VsNginx = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  let rate = 0;
  const running = new Map<string, ChildProcess | undefined>();
  try {
    for (const t of targets) running.set(t.name, await t.start());
    for (const t of targets) await saturate(t.url, 2); // warm-up: JIT, keep-alive pools
    // Pass 1: saturated throughput in short slices, cycling through the targets, so a noisy
    // neighbour (this machine is shared) hits every target alike. Each cycle gives a ratio to nginx
    // measured under the same conditions; the medians are reported.
    const nginxName = targets.find((t) => t.name.startsWith('nginx'))?.name;
    for (let cycle = 1; cycle <= ROUNDS; cycle++) {
      const inCycle = new Map<string, number>();
      const cpuInCycle = new Map<string, number>();
      for (const t of targets) {
        const pid = running.get(t.name)?.pid;
        const cpuBefore = pid === undefined ? undefined : treeCpuMs(pid);
        const f = await saturate(t.url, SATURATE_SECONDS);
        const cpuAfter = pid === undefined ? undefined : treeCpuMs(pid);
        if (cpuBefore !== undefined && cpuAfter !== undefined && f.total > 0) {
          const us = ((cpuAfter - cpuBefore) * 1000) / f.total;
          cpuInCycle.set(t.name, us);
          cpuPerRequest.get(t.name)!.push(us);
        }
        inCycle.set(t.name, f.rps);
        rps.get(t.name)!.push(f.rps);
        errors.set(t.name, errors.get(t.name)! + f.errors);
      }
      if (nginxName) for (const t of targets) vsNginx.get(t.name)!.push(inCycle.get(t.name)! / inCycle.get(nginxName)!);
      const nginxCpu = nginxName ? cpuInCycle.get(nginxName) : undefined;
      if (nginxCpu) for (const [name, us] of cpuInCycle) cpuVsNginx.get(name)!.push(nginxCpu / us);
      console.log(`cycle ${cycle}: ${targets.map((t) => `${t.name} ${Math.round(inCycle.get(t.name)!)} req/s${cpuInCycle.has(t.name) ? ` ${cpuInCycle.get(t.name)!.toFixed(1)} µs CPU/req` : ''}`).join(' · ')}`);
    }
    // Pass 2: latency at half of the single-worker proxy's saturation, the same rate for everyone,
    // again cycling so each cycle compares targets under the same conditions.
    // (What the core really gives the proxy with the neighbours of this run, not what it would on a
    // core of its own: at that rate a shared core would be overloaded and every target queue.)
    rate = median(rps.get(proxyOne)!) / 2;
    const measured = [process.pid, ...processTree(upstream.pid!), ...[...running.values()].flatMap((c) => (c?.pid === undefined ? [] : processTree(c.pid)))];
    renice(measured, LATENCY_NICE);
    for (let cycle = 1; cycle <= LATENCY_CYCLES; cycle++) {
      const inCycle = new Map<string, Latency>();
      for (const t of targets) {
        const load = backgroundLoad(t.url, rate, LATENCY_SECONDS + 1);
        try {
          await probe(t.url, 1); // let the background load settle
          const l = await probe(t.url, LATENCY_SECONDS);
          inCycle.set(t.name, l);
          lat.get(t.name)!.push(l);
          errors.set(t.name, errors.get(t.name)! + l.errors);
        } finally {
          await stopChild(load);
        }
      }
      const d = inCycle.get('no proxy')!;
      for (const t of targets) {
        addedP50.get(t.name)!.push(inCycle.get(t.name)!.p50 - d.p50);
        addedP99.get(t.name)!.push(inCycle.get(t.name)!.p99 - d.p99);
      }
      const nginxLatency = nginxName ? inCycle.get(nginxName) : undefined;
      if (nginxLatency) for (const t of targets) p99VsNginx.get(t.name)!.push((inCycle.get(t.name)!.p99 - d.p99) / (nginxLatency.p99 - d.p99));
      console.log(`latency cycle ${cycle} at ${Math.round(rate)} req/s: ${targets.map((t) => `${t.name} p50 ${inCycle.get(t.name)!.p50.toFixed(3)} p99 ${inCycle.get(t.name)!.p99.toFixed(3)}`).join(' · ')}`);
    }
  } finally {
    renice([process.pid], 0);
    for (const child of running.values()) if (child) await stopChild(child);
    await stopChild(upstream);
    unpin();
  }

  const directRps = median(rps.get('no proxy')!);
  const rows = targets.map((t) => {
    const r = median(rps.get(t.name)!);
    const self = t.name === 'no proxy';
    const ls = lat.get(t.name)!;
    return [
      t.name,
      Math.round(r),
      vsNginx.get(t.name)!.length ? median(vsNginx.get(t.name)!).toFixed(2) : 'n/a',
      cpuPerRequest.get(t.name)!.length ? median(cpuPerRequest.get(t.name)!).toFixed(1) : '—',
      cpuVsNginx.get(t.name)!.length ? median(cpuVsNginx.get(t.name)!).toFixed(2) : '—',
      (r / directRps).toFixed(2),
      median(ls.map((l) => l.p50)).toFixed(3),
      median(ls.map((l) => l.p99)).toFixed(3),
      self ? '—' : median(addedP50.get(t.name)!).toFixed(3),
      self ? '—' : median(addedP99.get(t.name)!).toFixed(3),
      self || !p99VsNginx.get(t.name)!.length ? '—' : `${median(p99VsNginx.get(t.name)!).toFixed(1)}×`,
      errors.get(t.name)!,
    ];
  });
  const nginxOne = targets.find((t) => t.name.startsWith('nginx ('))?.name;
  const throughputRatio = nginxOne ? median(vsNginx.get(proxyOne)!) : NaN;
  const cpuRatio = nginxOne && cpuVsNginx.get(proxyOne)!.length ? median(cpuVsNginx.get(proxyOne)!) : NaN;
  const p99One = median(addedP99.get(proxyOne)!);
  const p99Nginx = nginxOne ? median(addedP99.get(nginxOne)!) : NaN;
  const p99Ratio = nginxOne ? median(p99VsNginx.get(proxyOne)!) : NaN;
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const verdict = Number.isNaN(throughputRatio)
    ? ''
    : `This run, one worker each on the same core: throughput **${throughputRatio.toFixed(2)}** of nginx's in req/s` +
      `${Number.isNaN(cpuRatio) ? '' : ` and **${cpuRatio.toFixed(2)}** on equal CPU time`} (bar 0.65, aim 0.8: ${met(throughputRatio >= 0.65)}${Number.isNaN(cpuRatio) ? '' : ` in req/s, ${met(cpuRatio >= 0.65)} on equal CPU`}); ` +
      `added p99 at half load **${p99One.toFixed(3)} ms** vs nginx's **${p99Nginx.toFixed(3)} ms**, ` +
      `**${p99Ratio.toFixed(1)}×** nginx's (median of the per-cycle ratios; bar 2×, aim 1.2×: ${met(p99Ratio <= 2)}).`;
  const bareName = targets.find((t) => t.name.startsWith('reference'))!.name;
  const bareRps = median(rps.get(bareName)!);
  const bareP99 = median(addedP99.get(bareName)!);
  const reference =
    `Reading the reference row: a bare undici proxy (a dozen lines, none of our features) adds ${bareP99.toFixed(2)} ms p99 and ` +
    `serves ${Math.round(bareRps)} req/s on one worker; the strangler proxy with one worker serves ${(median(rps.get(proxyOne)!) / bareRps).toFixed(2)} of that ` +
    `and adds ${Math.abs(p99One - bareP99).toFixed(2)} ms p99 ${p99One >= bareP99 ? 'more' : 'less (within the noise of this measurement)'}. What lies between nginx and the reference is Node's HTTP stack on this machine; ` +
    `what lies between the reference and the strangler proxy is our code (routing, stickiness, edge headers, metrics, fallback bookkeeping).`;
  const loadAfter = loadavg()[0]!.toFixed(1);
  // More runnable work than cores before the run began; at its end the load average counts this
  // bench's own processes, which keep both cores busy by design.
  const overloaded = Number(loadBefore) > cores;
  const md = `## Strangler proxy

A fixed upstream (node:http, ~100-byte JSON, keep-alive) measured directly, behind nginx (Debian's
package as a plain reverse proxy: upstream keep-alive pool of 128, \`worker_processes 1\`, its
access log on, buffered, to /dev/null), behind the strangler proxy (\`proxy/src/main.ts\`,
\`PROXY_WORKERS=1\`, a route at weight 50 so sticky side assignment, edge headers, request ids,
metrics, the console's traffic figures and fallback bookkeeping run on every request; its access log
at its default, \`info\`, to stdout = /dev/null), and, as a reference, behind a bare undici proxy
with none of our features.

- Equal terms: ${pinning ? `every proxy (nginx, the exported nginx, the reference, ours) runs one worker pinned with \`taskset -c ${PROXY_CPUS}\`; the bench process (which runs the latency probe), the autocannon load generators and the upstream are pinned with \`taskset -c ${LOAD_CPUS}\`` : 'no pinning this run (taskset missing or a single core)'}. So each proxy gets the same CPU and none competes with the load it serves.

- Throughput: autocannon (own process), ${CONNECTIONS} connections, in ${SATURATE_SECONDS} s slices cycling through
  the targets (${ROUNDS} cycles) so a noisy neighbour hits all alike; "vs nginx" is the median of
  the per-cycle ratios, req/s the median of the slices. "CPU µs/request": user + system time of the
  proxy's processes (from /proc) over the requests answered in the slice; "vs nginx on equal CPU" is
  nginx's over the target's, per cycle, median: the throughput ratio on a core each had to itself.
  The shared core makes req/s swing with the neighbours of the moment; what a request costs barely moves.
- Latency: every target held at the same rate, half of the single-worker proxy's saturated req/s
  in pass 1 (${Math.round(rate)} req/s, autocannon \`-R\`), while a probe on one keep-alive connection times
  requests back to back with microsecond resolution,
  ${LATENCY_SECONDS} s per target per cycle, ${LATENCY_CYCLES} cycles. "Added" = median over cycles of (target − no proxy)
  in the same cycle; "added p99 vs nginx" the median over cycles of the target's added p99 over nginx's.
  ${canRenice ? `During this pass every measured process (each proxy, the upstream, the probe and the load generators it starts) runs at nice ${LATENCY_NICE}, all alike, so a proxy woken by a request is not kept waiting behind other people's CPU-bound work on the shared core (that wait, tens of ms at p99, measured the neighbours, not the proxy).` : 'No renice this run (not root): p99 includes waits behind other work on the shared core.'}
- The machine has ${cores} cores, shared with other engineers' runs (load average ${loadBefore} at the start
  of this run, ${loadAfter} at the end), so absolute figures are low and noisy: read the ratios.

Bars: ≥ 0.65 of nginx's throughput (aim 0.8); added p99 at half load ≤ 2× nginx's (aim 1.2×).
${verdict}${overloaded ? `\n\n**The machine was overloaded during this run** (load average ${loadBefore} → ${loadAfter} on ${cores} cores): the proxies' core was shared with that work, so req/s and above all the p99 figures measure the neighbours; the CPU time per request is the figure that holds. Run again on a quieter machine for the latency bar.` : ''}

${table(['target', 'req/s (saturated)', 'vs nginx', 'CPU µs/request', 'vs nginx on equal CPU', 'vs no proxy', 'p50 ms @ ½', 'p99 ms @ ½', 'added p50 ms', 'added p99 ms', 'added p99 vs nginx', 'errors'], rows)}

${reference}

${PROFILE}
${nginx ? '' : '\nnginx was not installed for this run (`sudo apt-get update && sudo apt-get install -y nginx`), so it has no row.\n'}`;
  writeSection('proxy', md);
  console.log(md);
}
