import type { RequestHandler } from 'express';
import { sendProblem } from './problem.ts';
import { JSON_TYPES, jsonBody } from './json-body.ts';

/** A body that is present must be JSON (or a JSON merge patch); anything else is refused with 415 before parsing. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is(JSON_TYPES)) {
    sendProblem(res, 415, 'UnsupportedMediaType', `Send the body as ${JSON_TYPES.join(' or ')} (got ${req.get('content-type') ?? 'no content type'})`);
    return;
  }
  next();
};

/**
 * The body of an API request: none (most reads) goes straight on; one that is present must be JSON
 * (requireJsonBody) and is parsed by jsonBody. One layer, where two ran for every request, a GET
 * included.
 */
export function jsonRequestBody(o: { limit: string; maxDepth: number }): RequestHandler {
  const parse = jsonBody(o);
  return (req, res, next) => {
    // body-parser's own test for a body (type-is hasBody): a Content-Length, even 0, counts.
    if (req.headers['transfer-encoding'] === undefined && Number.isNaN(Number(req.headers['content-length']))) {
      next();
      return;
    }
    requireJsonBody(req, res, () => parse(req, res, next));
  };
}
