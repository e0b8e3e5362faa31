// The admin API (bearer JWT with scope `admin`): reads the live state and changes a route's weight
// or canary. A weight change is written to the config file, so it survives a restart and the file
// stays the one source of truth (other workers and instances pick it up by hot reload).
import type http from 'node:http';
import { z } from 'zod';
import { sendJson, sendProblem } from './problem.ts';
import type { JwtVerifier } from './jwt-auth.ts';

export const ADMIN_PREFIX = '/_proxy/';

export interface AdminActions {
  state(): unknown;
  setWeight(route: string, weight: number): void;
  startCanary(route: string): void;
  abortCanary(route: string): void;
}

const weightBody = z.object({ weight: z.number().int().min(0).max(100) }).strict();

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 65_536) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

export async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, verifier: JwtVerifier, actions: AdminActions): Promise<void> {
  const auth = await verifier.check(req.headers.authorization, 'admin');
  if (!auth.ok) {
    sendProblem(res, auth.status, auth.status === 401 ? 'Unauthorized' : 'Forbidden', auth.reason, auth.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!.slice(ADMIN_PREFIX.length);
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (method === 'GET' && (parts.length === 0 || parts[0] === 'state')) return sendJson(res, 200, actions.state());
    if (method === 'GET' && parts.length === 1 && (parts[0] === 'shadow' || parts[0] === 'canary' || parts[0] === 'routes' || parts[0] === 'pools')) {
      return sendJson(res, 200, (actions.state() as Record<string, unknown>)[parts[0]]);
    }
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'weight' && (method === 'PUT' || method === 'POST')) {
      const parsed = weightBody.safeParse(await readJson(req));
      if (!parsed.success) return sendProblem(res, 400, 'Bad Request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      actions.setWeight(parts[1]!, parsed.data.weight);
      return sendJson(res, 200, { route: parts[1], weight: parsed.data.weight });
    }
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'canary' && (method === 'POST' || method === 'DELETE')) {
      if (method === 'POST') actions.startCanary(parts[1]!);
      else actions.abortCanary(parts[1]!);
      return sendJson(res, 202, { route: parts[1], canary: method === 'POST' ? 'started' : 'aborted' });
    }
    sendProblem(res, 404, 'Not Found', `no admin endpoint ${method} ${req.url}`);
  } catch (err) {
    const message = (err as Error).message;
    // 404 unknown route; 409 when the request is fine but the state is not (no canary configured, or
    // the file on disk is mid-edit and invalid, which we refuse to overwrite).
    const status = /^no route/.test(message) ? 404 : (err as Error).name === 'ConfigError' || message.includes('canary') ? 409 : 400;
    sendProblem(res, status, 'Admin request refused', message);
  }
}
