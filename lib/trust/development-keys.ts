// Keys for a machine that is not production. No key is written in the source: the first process
// that needs one (the app, a service, the proxy, `npm run token`) generates random keys into
// DATA_DIR/dev-keys.json, readable by its owner only, and every later process on that machine
// reads the same file, so tokens minted by one are accepted by the others. Production never
// reads this file: there every deployable must be given its keys.
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevelopmentKeys {
  /** Signs and checks end-user tokens (HS256). */
  jwtSecret: string;
  /** Signs and checks service-to-service credentials. */
  serviceSecret: string;
  /** Where they are kept. */
  file: string;
}

export const DEV_KEYS_FILE = 'dev-keys.json';

export function developmentKeysFile(dataDir: string): string {
  return join(dataDir, DEV_KEYS_FILE);
}

/** Reads DATA_DIR/dev-keys.json, creating it first if no process has yet. */
export function developmentKeys(dataDir: string): DevelopmentKeys {
  const file = developmentKeysFile(dataDir);
  const existing = read(file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const fresh = { jwtSecret: randomBytes(32).toString('base64url'), serviceSecret: randomBytes(32).toString('base64url') };
  // Written whole to a private temporary file, then linked into place: link fails if the file
  // exists, so two processes starting together agree on whichever keys landed first, and nobody
  // ever reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const kept = read(file);
  if (!kept) throw new Error(`${file} exists but holds no usable keys; delete it to have new ones made`);
  return kept;
}

function read(file: string): DevelopmentKeys | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: { jwtSecret?: unknown; serviceSecret?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed.jwtSecret !== 'string' || parsed.jwtSecret.length < 32) return undefined;
  if (typeof parsed.serviceSecret !== 'string' || parsed.serviceSecret.length < 32) return undefined;
  return { jwtSecret: parsed.jwtSecret, serviceSecret: parsed.serviceSecret, file };
}

/** Loopback addresses: a deployable bound only to them is not reachable from another machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}
