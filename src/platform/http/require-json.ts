import type { RequestHandler } from 'express';
import { sendProblem } from './problem.ts';

/** A body that is present must be JSON; anything else is refused with 415 before parsing. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    sendProblem(res, 415, 'UnsupportedMediaType', `Send the body as application/json (got ${req.get('content-type') ?? 'no content type'})`);
    return;
  }
  next();
};
