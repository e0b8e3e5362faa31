// The console's page and its assets: plain HTML, CSS and ES modules from proxy/console/, served as
// they are (no build step), with a policy that allows no inline script and no framing. They carry
// no data and need no token: the page asks the operator for one and sends it with every call.
// In the source tree the files are in proxy/console/; in a deployable's bundle they are copied
// beside it (dist/console/), so both places are looked at.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type http from 'node:http';
import { PAGE_CSP } from './cross-site.ts';
import { sendProblem } from '../problem.ts';

export const CONSOLE_PATH = '/_proxy/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  type: string;
  body: Buffer;
}

export function assetsDirectory(): string | undefined {
  const candidates = [process.env.CONSOLE_ASSETS_DIR, join(import.meta.dirname, 'console'), resolve(import.meta.dirname, '../../console')];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, 'index.html')));
}

/** The files, read once: only names that exist at start are ever served (nothing a path can reach beyond them). */
export function loadConsoleAssets(dir = assetsDirectory()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!dir) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

/** Whether this internal-port request is for the page or an asset. */
export function isConsolePage(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

export function serveConsolePage(req: http.IncomingMessage, res: http.ServerResponse, assets: Map<string, Asset>): void {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendProblem(res, 405, 'MethodNotAllowed', 'the console’s files answer GET and HEAD', { allow: 'GET, HEAD' });
  if (path === `${CONSOLE_PATH}/`) {
    res.writeHead(308, { location: CONSOLE_PATH, 'content-length': 0 });
    return void res.end();
  }
  const name = path === CONSOLE_PATH ? 'index.html' : path.slice(CONSOLE_PATH.length + 1);
  const asset = assets.get(name);
  if (!asset || name === '') {
    if (!assets.size) return sendProblem(res, 404, 'ConsoleNotInstalled', 'the console’s files were not found beside the proxy (proxy/console/ or CONSOLE_ASSETS_DIR)');
    return sendProblem(res, 404, 'RouteNotFound', `the console has no file ${name}`);
  }
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': asset.body.length,
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Always checked with the server: a deployment with a new console never serves yesterday's script.
    'cache-control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
