// `npm run proxy -- export <engine> [options]`: the live route table (the config file the proxy
// serves) written for another engine. `nginx` can also keep its output current: with --watch it
// re-exports whenever the table changes (a file edit, an admin API weight, a canary step all land
// in the file) and runs --reload, e.g. `nginx -s reload`, which lets open connections finish.
import { writeFileSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { readConfig } from '../config-file.ts';
import { watchConfig } from '../config-watcher.ts';
import { renderNginx } from './nginx.ts';
import { renderGatewayApi } from './gateway-api.ts';
import { renderArgoRollouts } from './argo-rollouts.ts';

const USAGE = `usage: npm run proxy -- export <nginx|gateway-api|argo-rollouts> [options]
  --config <file>         the route table (default: PROXY_CONFIG or proxy/config.json)
  --out <file>            write there (atomically) instead of to stdout
nginx:
  --listen <addr:port>    the public server's listen parameter (default: PROXY_PORT or 8080)
  --njs <file>            where nginx finds strangler.js (default: this repository's proxy/nginx/strangler.js)
  --watch                 keep running: export again whenever the table changes (needs --out)
  --reload <command>      run after each export, e.g. "nginx -s reload"
gateway-api, argo-rollouts:
  --namespace <ns>        metadata.namespace of every object (default: default)
  --gateway <name>        the Gateway the HTTPRoutes attach to (default: strangler)
  --port <n>              the services' port (default: 80)`;

export async function runExport(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        out: { type: 'string' },
        listen: { type: 'string' },
        njs: { type: 'string' },
        watch: { type: 'boolean' },
        reload: { type: 'string' },
        namespace: { type: 'string' },
        gateway: { type: 'string' },
        port: { type: 'string' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  const engine = positionals[0];
  const configPath = values.config ?? process.env.PROXY_CONFIG ?? 'proxy/config.json';
  const render = (): string => {
    const config = readConfig(configPath);
    if (engine === 'nginx') return renderNginx(config, { listen: values.listen ?? process.env.PROXY_PORT ?? '8080', njsPath: values.njs, source: configPath });
    const k8s = { namespace: values.namespace ?? 'default', gateway: values.gateway ?? 'strangler', port: Number(values.port ?? 80) };
    if (engine === 'gateway-api') return renderGatewayApi(config, k8s);
    return renderArgoRollouts(config, k8s);
  };
  if (!['nginx', 'gateway-api', 'argo-rollouts'].includes(engine ?? '') || positionals.length !== 1 || (values.watch && (!values.out || engine !== 'nginx'))) {
    console.error(USAGE);
    return 64;
  }
  const emit = (): boolean => {
    let text: string;
    try {
      text = render();
    } catch (err) {
      console.error(`export ${engine}: ${(err as Error).message}`);
      return false;
    }
    if (!values.out) {
      process.stdout.write(text);
      return true;
    }
    const tmp = `${values.out}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, values.out);
    if (values.reload) {
      const r = spawnSync(values.reload, { shell: true, stdio: 'inherit' });
      if (r.status !== 0) console.error(`export ${engine}: "${values.reload}" exited with ${r.status ?? r.signal}`);
    }
    console.error(`export ${engine}: wrote ${values.out}`);
    return true;
  };
  if (!emit()) return 1;
  if (!values.watch) return 0;
  // The proxy polls its file the same way; an invalid edit is reported and the last export kept.
  watchConfig(configPath, 200, () => void emit(), true);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  return 0;
}
