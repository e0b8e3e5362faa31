import type { RequestHandler } from 'express';
import { sendProblem } from './problem.ts';
import { JSON_TYPES } from './json-body.ts';

/** A body that is present must be JSON (or a JSON merge patch); anything else is refused with 415 before parsing. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is(JSON_TYPES)) {
    sendProblem(res, 415, 'UnsupportedMediaType', `Send the body as ${JSON_TYPES.join(' or ')} (got ${req.get('content-type') ?? 'no content type'})`);
    return;
  }
  next();
};
