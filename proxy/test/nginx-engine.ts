// Test kit: Debian's nginx driven by `npm run proxy -- export nginx`, on 127.0.0.1. Missing nginx
// fails the test, saying what to install; it never skips.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/processes.ts';
import { readConfig } from '../src/config-file.ts';
import { renderNginx } from '../src/export/nginx.ts';
import { waitFor } from './helpers.ts';

const JS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

export function nginxBinary(): string {
  const bin = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((b) => existsSync(b));
  if (!bin || !existsSync(JS_MODULE)) {
    throw new Error('nginx with its njs module is needed for these tests: apt-get install -y nginx-light libnginx-mod-http-js');
  }
  return bin;
}

export interface RunningNginx {
  url: string;
  dir: string;
  /** The include file the export writes. */
  confPath: string;
  /** The command that reloads this nginx. */
  reloadCommand: string;
  /** Exports the table again from `configPath` and reloads. */
  reload(): void;
  stop(): Promise<void>;
}

export async function startNginx(configPath: string): Promise<RunningNginx> {
  const bin = nginxBinary();
  const dir = mkdtempSync(join(tmpdir(), 'strangler-nginx-'));
  // mkdtemp makes it 0700: nginx's workers (not root) must get through it to the temp directory
  // where they spill a request body that arrives slowly (a loaded machine), or that POST is a 500.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const confPath = join(dir, 'strangler.conf');
  const mainConf = join(dir, 'nginx.conf');
  const exportNow = () => writeFileSync(confPath, renderNginx(readConfig(configPath), { listen: `127.0.0.1:${port}` }));
  exportNow();
  writeFileSync(
    mainConf,
    `load_module ${JS_MODULE};
daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # One request per client connection. On reload nginx closes its idle keep-alive connections at
  # once, and a request a client sends on one at that instant is lost before nginx reads it (the
  # HTTP/1.1 race clients settle by retrying a request that got no answer); load generators do
  # not retry. Without client keep-alive nothing is idle, so the shift test checks what is ours
  # to check: no request nginx accepted is dropped by a reload. Upstream keep-alive stays on.
  keepalive_requests 1;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${confPath};
}
`,
  );
  const reloadCommand = `${bin} -p ${dir} -c ${mainConf} -s reload`;
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', mainConf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health/live`)).ok, 'nginx to answer', 20_000).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${output}`);
  });
  return {
    url,
    dir,
    confPath,
    reloadCommand,
    reload() {
      exportNow();
      const r = spawnSync(bin, ['-p', dir, '-c', mainConf, '-s', 'reload'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`nginx reload failed: ${r.stderr}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
