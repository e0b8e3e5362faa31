// `npm run dlq -- list [--module <m>]` and `npm run dlq -- replay <module> (<seq> | --all)`:
// dead letters of a running app, through its admin endpoints (GET /admin/dead-letters,
// POST /admin/dead-letters/replay), with an admin token minted from the deployment's JWT key.
// The app is found at APP_URL (its internal listener, where admin routes live), else
// http://127.0.0.1:$INTERNAL_PORT (PORT + 1000, so 4000 by default).
import { parseArgs } from 'node:util';
import { mintToken } from '../src/platform/auth/jwt.ts';
import { loadConfig, ConfigError } from '../src/platform/config/env.ts';

const usage = `usage:
  npm run dlq -- list [--module <module>]
  npm run dlq -- replay <module> <seq>     replay one dead letter
  npm run dlq -- replay <module> --all     replay every dead letter of the module
The app is reached at APP_URL: its internal listener (default http://127.0.0.1:$INTERNAL_PORT, 4000).`;

interface DeadLetter {
  module: string;
  seq: number;
  eventId: string;
  handler: string;
  reason: string;
  attempts: number;
  createdAt: string;
}

class Fatal extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.code = code;
  }
}

function parse() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { module: { type: 'string' }, all: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (err) {
    throw new Fatal(`${(err as Error).message}\n${usage}`, 2);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help) throw new Fatal(usage, 0);
  if (command === 'list') {
    if (rest.length || values.all) throw new Fatal(`list takes only --module\n${usage}`, 2);
    return { command: 'list' as const, module: values.module };
  }
  if (command === 'replay') {
    const [module, seqText, ...extra] = rest;
    if (!module || extra.length || values.module) throw new Fatal(`replay needs a module, then a seq or --all\n${usage}`, 2);
    if (seqText !== undefined && values.all) throw new Fatal(`give either a seq or --all, not both\n${usage}`, 2);
    if (seqText === undefined && !values.all) throw new Fatal(`replay ${module} needs a seq (see \`npm run dlq -- list\`) or --all\n${usage}`, 2);
    const seq = seqText === undefined ? undefined : Number(seqText);
    if (seq !== undefined && !(Number.isInteger(seq) && seq > 0)) throw new Fatal(`"${seqText}" is not a dead-letter seq (a positive integer)`, 2);
    return { command: 'replay' as const, module, seq };
  }
  throw new Fatal(command ? `unknown command "${command}"\n${usage}` : usage, 2);
}

async function call(baseUrl: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Fatal(`cannot reach the app at ${baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? Set APP_URL or PORT to point at it.`);
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const detail = parsed && typeof parsed === 'object' ? (parsed.detail ?? parsed.title) : text;
    const hint = res.status === 401 || res.status === 403 ? ' (is JWT_SECRET the same as the app\'s?)' : '';
    throw new Fatal(`${method} ${path} answered ${res.status}: ${detail || res.statusText}${hint}`);
  }
  return parsed;
}

function printList(items: DeadLetter[], module?: string): void {
  if (items.length === 0) {
    console.log(module ? `No dead letters for ${module}.` : 'No dead letters.');
    return;
  }
  const rows = items.map((d) => [d.module, String(d.seq), d.handler, d.eventId, String(d.attempts), new Date(d.createdAt).toISOString(), d.reason.replace(/\s+/g, ' ')]);
  const head = ['MODULE', 'SEQ', 'EVENT', 'EVENT ID', 'ATTEMPTS', 'DEAD-LETTERED AT', 'REASON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`\n${items.length} dead letter(s). Replay one with \`npm run dlq -- replay <module> <seq>\`, or all of a module with \`--all\`.`);
}

try {
  const args = parse();
  const config = loadConfig();
  // Admin routes live on the internal listener.
  const baseUrl = (process.env.APP_URL || `http://127.0.0.1:${config.INTERNAL_PORT}`).replace(/\/+$/, '');
  if (!config.jwtSecret) throw new Fatal('This deployment verifies tokens against JWT_JWKS_URL: call the admin routes with an admin token from that identity provider', 1);
  const token = await mintToken({ sub: 'dlq-cli', scopes: ['admin'], secret: config.jwtSecret, expiresIn: '5m' });
  if (args.command === 'list') {
    const query = args.module ? `?module=${encodeURIComponent(args.module)}` : '';
    const { items } = (await call(baseUrl, token, 'GET', `/admin/dead-letters${query}`)) as { items: DeadLetter[] };
    printList(items, args.module);
  } else {
    const { replayed } = (await call(baseUrl, token, 'POST', '/admin/dead-letters/replay', { module: args.module, ...(args.seq ? { seq: args.seq } : {}) })) as { replayed: number };
    const what = args.seq ? `dead letter ${args.seq} of ${args.module}` : `dead letters of ${args.module}`;
    if (replayed === 0) {
      // Asking for one that is not there is an error; "all" of none is not.
      console.log(`Nothing replayed: no pending ${what} (already replayed, or ${args.module} is not hosted at ${baseUrl}).`);
      process.exitCode = args.seq ? 1 : 0;
    } else {
      console.log(`Replayed ${replayed} dead letter(s) of ${args.module}. One that fails again comes back as a fresh dead letter.`);
    }
  }
} catch (err) {
  if (err instanceof Fatal) {
    (err.code === 0 ? console.log : console.error)(err.message);
    process.exit(err.code);
  }
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
