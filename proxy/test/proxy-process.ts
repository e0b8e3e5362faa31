// `npm run proxy` as a real process tree (primary and workers) on free ports, for the tests that need
// the process itself: signals, cluster workers, start-up refusals, the shared table.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../test/support/processes.ts';
import { waitFor } from './helpers.ts';

export interface ProxyProcess {
  child: ChildProcess;
  /** The public listener, `http://127.0.0.1:<PROXY_PORT>`. */
  base: string;
  /** The internal listener (admin API, probes, metrics, console). */
  internal: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then resolves with the exit code once it has exited (at once if it already has). */
  stop(): Promise<number | null>;
}

export interface SpawnProxyOptions {
  /** Variables over this process's environment; `undefined` removes one. */
  env: Record<string, string | undefined>;
  /** How many "proxy listening" lines mean ready: one per worker. */
  workers?: number;
  /** Sized for a loaded 2-core CI machine, where several processes start at once. */
  readyTimeoutMs?: number;
}

export async function spawnProxy(o: SpawnProxyOptions): Promise<ProxyProcess> {
  const [port, internalPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, PROXY_PORT: String(port), PROXY_INTERNAL_PORT: String(internalPort) };
  for (const [name, value] of Object.entries(o.env)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(process.execPath, ['proxy/src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const proxy: ProxyProcess = {
    child,
    base: `http://127.0.0.1:${port}`,
    internal: `http://127.0.0.1:${internalPort}`,
    output: () => out,
    stop: async () => {
      if (running()) child.kill('SIGTERM');
      return exited;
    },
  };
  const workers = o.workers ?? 1;
  try {
    await waitFor(() => out.split('proxy listening').length - 1 >= workers || !running(), `${workers} proxy worker(s) to listen`, o.readyTimeoutMs ?? 45_000);
    if (!running()) throw new Error(`the proxy exited with code ${child.exitCode ?? child.signalCode}`);
  } catch (err) {
    await proxy.stop();
    throw new Error(`${(err as Error).message}\nproxy output:\n${out}`);
  }
  return proxy;
}
