// The admin API on the internal listener (bearer JWT with scope `admin`): reads the live state and
// changes a route's weight or canary; the migration console's summary, audit log and dead-letter
// replay are calls of the same API. A weight change is written to the config file, so it survives
// a restart and the file stays the one source of truth. Every state-changing call of an
// authenticated operator is written to the audit log, applied or refused. Requests a browser marks
// as cross-site are refused first. Every answer, every refusal and every failure is an answer:
// nothing a caller sends escapes as an unhandled error.
import type http from 'node:http';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ADMIN_SCOPE, hasScope } from '../../lib/trust/index.ts';
import { sendJson, sendProblem } from './problem.ts';
import type { Gate } from './gate.ts';
import { ConfigError } from './config-file.ts';
import { BodyRefused, readJsonBody } from './json-body.ts';
import { AdminRefusal, type AdminActions, type Change } from './admin-actions.ts';
import type { AuditEntry, AuditLog } from './console/audit-log.ts';
import { API_HEADERS, crossSiteRefusal } from './console/cross-site.ts';

export const ADMIN_PREFIX = '/_proxy/';
const BODY_LIMITS = { maxBytes: 65_536, maxDepth: 16 };

const weightBody = z.object({ weight: z.number().int().min(0).max(100), confirm: z.boolean().optional() }).strict();
const replayBody = z.object({ instance: z.string().min(1), module: z.string().min(1), seq: z.number().int().positive() }).strict();
const STATE_PARTS = new Set(['shadow', 'canary', 'routes', 'pools', 'fallbacks']);
const CANARY_OPS = { pause: 'pauseCanary', resume: 'resumeCanary' } as const;

/** One dead letter: the deployable's internal listener holding it, its module and its number there. */
export interface DeadLetterRef {
  instance: string;
  module: string;
  seq: number;
}

/** The console's calls that are more than the live state (console/migration-console.ts). */
export interface ConsoleCalls {
  summary(authorization: string | undefined): Promise<unknown>;
  /** Replays one dead letter through the admin route of the deployable that holds it. */
  replayDeadLetter(what: DeadLetterRef, authorization: string | undefined): Promise<{ body: unknown; change: Change } | { problem: { status: number; code: string; detail: string } }>;
}

export interface AdminContext {
  gate: Gate;
  actions: AdminActions;
  log: Logger;
  audit: AuditLog;
  /** Names this process in audit entries (the shared table's id, else the pid). */
  proxyId: string;
  console: ConsoleCalls;
}

export async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, ctx: AdminContext): Promise<void> {
  const { gate, actions, log } = ctx;
  for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
  let audited: ((outcome: AuditEntry['outcome'], change: Partial<Change>, detail?: string) => Promise<void>) | undefined;
  try {
    const crossSite = crossSiteRefusal(req);
    if (crossSite) return sendProblem(res, 403, 'CrossSiteRefused', crossSite);
    const checked = await gate.identify(req);
    if ('refusal' in checked) {
      const { status, code, detail, headers } = checked.refusal;
      return sendProblem(res, status, code, detail, headers);
    }
    if (!hasScope(checked.identity, ADMIN_SCOPE)) return sendProblem(res, 403, 'Forbidden', `the scope "${ADMIN_SCOPE}" is required`);
    const who = checked.identity.sub;
    const parts = pathParts(req.url ?? '/');
    if (!parts) return sendProblem(res, 400, 'MalformedPath', 'the path has malformed percent-encoding');
    const method = req.method ?? 'GET';
    const record = (action: AuditEntry['action'], target: string) => {
      audited = async (outcome, change, detail) => {
        const entry: AuditEntry = { at: new Date().toISOString(), who, action, target, from: change.from, to: change.to, outcome, ...(detail ? { detail } : {}), proxy: ctx.proxyId };
        await ctx.audit.append(entry).catch((err: Error) => log.error({ err: err.message, audit: entry }, 'audit entry not written'));
      };
      return audited;
    };

    if (method === 'GET' && (parts.length === 0 || (parts.length === 1 && parts[0] === 'state'))) return sendJson(res, 200, await actions.state());
    if (method === 'GET' && parts.length === 1 && STATE_PARTS.has(parts[0]!)) return sendJson(res, 200, (await actions.state())[parts[0]!]);
    if (method === 'GET' && parts.length === 1 && parts[0] === 'summary') return sendJson(res, 200, await ctx.console.summary(req.headers.authorization));
    if (method === 'GET' && parts.length === 1 && parts[0] === 'audit') {
      const limit = Math.min(500, Math.max(1, Number(new URL(req.url ?? '/', 'http://x').searchParams.get('limit') ?? 100) || 100));
      return sendJson(res, 200, { where: ctx.audit.where, entries: await ctx.audit.latest(limit) });
    }
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'weight' && (method === 'PUT' || method === 'POST')) {
      const parsed = weightBody.safeParse(await readJsonBody(req, BODY_LIMITS));
      if (!parsed.success) return sendProblem(res, 400, 'InvalidBody', issues(parsed.error));
      const done = record('set-weight', parts[1]!);
      const change = actions.setWeight(parts[1]!, parsed.data.weight, { confirmed: parsed.data.confirm === true });
      await done('applied', change);
      return sendJson(res, 200, { route: parts[1], weight: parsed.data.weight, from: change.from });
    }
    if (parts[0] === 'routes' && parts.length === 3 && parts[2] === 'canary' && (method === 'POST' || method === 'DELETE')) {
      const done = record(method === 'POST' ? 'start-canary' : 'abort-canary', parts[1]!);
      const change = method === 'POST' ? actions.startCanary(parts[1]!) : actions.abortCanary(parts[1]!);
      await done('applied', change);
      return sendJson(res, 202, { route: parts[1], canary: method === 'POST' ? 'started' : 'aborted', from: change.from });
    }
    if (parts[0] === 'routes' && parts.length === 4 && parts[2] === 'canary' && method === 'POST' && (parts[3] === 'pause' || parts[3] === 'resume')) {
      const op = parts[3];
      const done = record(op === 'pause' ? 'pause-canary' : 'resume-canary', parts[1]!);
      const change = actions[CANARY_OPS[op]](parts[1]!);
      await done('applied', change);
      return sendJson(res, 202, { route: parts[1], canary: op === 'pause' ? 'paused' : 'resumed', from: change.from });
    }
    if (parts[0] === 'dead-letters' && parts[1] === 'replay' && parts.length === 2 && method === 'POST') {
      const parsed = replayBody.safeParse(await readJsonBody(req, BODY_LIMITS));
      if (!parsed.success) return sendProblem(res, 400, 'InvalidBody', issues(parsed.error));
      const { instance, module, seq } = parsed.data;
      const done = record('replay-dead-letter', `${module}#${seq} at ${instance}`);
      const answer = await ctx.console.replayDeadLetter(parsed.data, req.headers.authorization);
      if ('problem' in answer) {
        const { status, code, detail } = answer.problem;
        await done('failed', {}, `${code}: ${detail}`);
        return sendProblem(res, status, code, detail);
      }
      await done('applied', answer.change);
      return sendJson(res, 200, answer.body);
    }
    sendProblem(res, 404, 'RouteNotFound', `no admin endpoint ${method} ${ADMIN_PREFIX}${parts.join('/')}`);
  } catch (err) {
    if (err instanceof AdminRefusal) {
      await audited?.('refused', {}, `${err.code}: ${err.message}`);
      return sendProblem(res, err.status, err.code, err.message);
    }
    if (err instanceof BodyRefused) return sendProblem(res, err.status, err.code, err.message);
    // The file on disk is mid-edit and invalid: it is not overwritten. The reason names the line or
    // field, not where the file lives.
    if (err instanceof ConfigError) {
      await audited?.('refused', {}, `ConfigFileInvalid: ${err.reason}`);
      return sendProblem(res, 409, 'ConfigFileInvalid', `the config file cannot be changed now: ${err.reason}`);
    }
    log.error({ err, url: req.url }, 'admin request failed');
    await audited?.('failed', {}, 'InternalError');
    sendProblem(res, 500, 'InternalError', 'the admin request failed; the proxy log has the reason');
  }
}

const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

/** The path's segments after /_proxy/, decoded; undefined when the encoding is broken. */
function pathParts(url: string): string[] | undefined {
  const path = url.split('?')[0]!.slice(ADMIN_PREFIX.length);
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
