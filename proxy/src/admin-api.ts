// The admin API on the internal listener (bearer JWT with scope `admin`): reads the live state and
// changes a route's weight or canary. A weight change is written to the config file, so it
// survives a restart and the file stays the one source of truth. Every answer, every refusal and
// every failure is an answer: nothing a caller sends escapes as an unhandled error.
import type http from 'node:http';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ADMIN_SCOPE, hasScope } from '../../lib/trust/index.ts';
import { sendJson, sendProblem } from './problem.ts';
import type { Gate } from './gate.ts';
import { ConfigError } from './config-file.ts';
import { BodyRefused, readJsonBody } from './json-body.ts';
import { AdminRefusal, type AdminActions } from './admin-actions.ts';

export const ADMIN_PREFIX = '/_proxy/';
const BODY_LIMITS = { maxBytes: 65_536, maxDepth: 16 };

const weightBody = z.object({ weight: z.number().int().min(0).max(100) }).strict();
const STATE_PARTS = new Set(['shadow', 'canary', 'routes', 'pools', 'fallbacks']);

export async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, gate: Gate, actions: AdminActions, log: Logger): Promise<void> {
  try {
    const checked = await gate.identify(req);
    if ('refusal' in checked) {
      const { status, code, detail, headers } = checked.refusal;
      return sendProblem(res, status, code, detail, headers);
    }
    if (!hasScope(checked.identity, ADMIN_SCOPE)) return sendProblem(res, 403, 'Forbidden', `the scope "${ADMIN_SCOPE}" is required`);
    const parts = pathParts(req.url ?? '/');
    if (!parts) return sendProblem(res, 400, 'MalformedPath', 'the path has malformed percent-encoding');
    const method = req.method ?? 'GET';
    if (method === 'GET' && (parts.length === 0 || (parts.length === 1 && parts[0] === 'state'))) return sendJson(res, 200, await actions.state());
    if (method === 'GET' && parts.length === 1 && STATE_PARTS.has(parts[0]!)) return sendJson(res, 200, (await actions.state())[parts[0]!]);
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'weight' && (method === 'PUT' || method === 'POST')) {
      const parsed = weightBody.safeParse(await readJsonBody(req, BODY_LIMITS));
      if (!parsed.success) return sendProblem(res, 400, 'InvalidBody', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      actions.setWeight(parts[1]!, parsed.data.weight);
      return sendJson(res, 200, { route: parts[1], weight: parsed.data.weight });
    }
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'canary' && (method === 'POST' || method === 'DELETE')) {
      if (method === 'POST') actions.startCanary(parts[1]!);
      else actions.abortCanary(parts[1]!);
      return sendJson(res, 202, { route: parts[1], canary: method === 'POST' ? 'started' : 'aborted' });
    }
    sendProblem(res, 404, 'RouteNotFound', `no admin endpoint ${method} ${ADMIN_PREFIX}${parts.join('/')}`);
  } catch (err) {
    if (err instanceof AdminRefusal || err instanceof BodyRefused) return sendProblem(res, err.status, err.code, err.message);
    // The file on disk is mid-edit and invalid: it is not overwritten. The reason names the line or
    // field, not where the file lives.
    if (err instanceof ConfigError) return sendProblem(res, 409, 'ConfigFileInvalid', `the config file cannot be changed now: ${err.reason}`);
    log.error({ err, url: req.url }, 'admin request failed');
    sendProblem(res, 500, 'InternalError', 'the admin request failed; the proxy log has the reason');
  }
}

/** The path's segments after /_proxy/, decoded; undefined when the encoding is broken. */
function pathParts(url: string): string[] | undefined {
  const path = url.split('?')[0]!.slice(ADMIN_PREFIX.length);
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
