// Every error leaves as RFC 9457 application/problem+json, with a stable `code` a client can
// switch on and the request id to quote in a support ticket. Internals never leave the process.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { DomainError } from '../errors/domain-error.ts';
import { currentContext } from '../context/request-context.ts';
import type { Logger } from '../logging/logger.ts';
import { causeChain } from '../errors/causes.ts';
import { rowsNotAsExpected } from '../data/prepared-write.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: unknown;
  [extra: string]: unknown;
}

const titles: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function kebab(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function sendProblem(res: Response, status: number, code: string, detail?: string, extra: Record<string, unknown> = {}): void {
  const problem: Problem = {
    type: `/problems/${kebab(code)}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    code,
    instance: res.req.originalUrl,
    requestId: currentContext()?.requestId,
    ...extra,
  };
  res.status(status).type('application/problem+json').send(JSON.stringify(problem));
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, 404, 'RouteNotFound', `No route for ${req.method} ${req.path}`);
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof DomainError) {
      const extra: Record<string, unknown> = {};
      const details = err.details as { issues?: unknown } | undefined;
      if (details?.issues) extra.errors = details.issues;
      else if (err.details !== undefined) extra.details = err.details;
      if (err.status >= 500) logger.error({ err }, 'request failed');
      sendProblem(res, err.status, err.code, err.message, extra);
      return;
    }
    const e = err as BodyParserError;
    switch (e?.type) {
      case 'entity.too.large':
        return sendProblem(res, 413, 'BodyTooLarge', `The body exceeds the limit of ${e.limit} bytes`);
      case 'entity.parse.failed':
        return sendProblem(res, 400, 'MalformedJson', `The body is not valid JSON: ${e.message}`);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendProblem(res, 415, 'UnsupportedEncoding', e.message);
      case 'request.aborted':
        return sendProblem(res, 400, 'RequestAborted', 'The client aborted the request');
      case 'entity.too.deep':
        return sendProblem(res, 400, 'BodyTooDeep', e.message);
      case 'entity.nul':
        return sendProblem(res, 400, 'ControlCharacter', e.message);
    }
    // A route parameter that cannot be decoded (express decodes them after matching).
    if (err instanceof URIError || (e?.status === 400 && /Failed to decode param/.test(String(e.message)))) {
      return sendProblem(res, 400, 'MalformedPath', 'The path has malformed percent-encoding');
    }
    // Postgres refuses a value the schemas let through (class 22: data exception): the client's input.
    // Not a write whose row count the database checked (`expectRows`, raised as a class-22 error):
    // one that reaches here was not handled where it ran, which is ours to fix.
    const pgCode = sqlStateOf(err);
    if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode) && !rowsNotAsExpected(err)) {
      return sendProblem(res, 400, 'InvalidValue', 'A value in the request is out of the range the store accepts');
    }
    // The module's connection pool stayed full for its whole timeout: overload, not a bug.
    if (/timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(String((err as Error)?.message ?? ''))) {
      res.setHeader('Retry-After', '1');
      return sendProblem(res, 503, 'Overloaded', 'The service is busy; retry shortly');
    }
    if (e?.expose && typeof e.status === 'number' && e.status < 500) {
      return sendProblem(res, e.status, 'BadRequest', e.message);
    }
    logger.error({ err }, 'unhandled error');
    sendProblem(res, 500, 'InternalError', 'Something went wrong on our side; quote the request id if you report it');
  };
}

/**
 * The SQLSTATE of a Postgres error behind `err`: on it, or on an error it was caused by (drizzle
 * wraps pg's; a statement that did not run because a write held for its round trip failed carries
 * that write's error as its cause).
 */
function sqlStateOf(err: unknown): unknown {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (code !== undefined) return code;
  }
  return undefined;
}
