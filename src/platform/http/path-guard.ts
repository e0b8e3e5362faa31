// A path that cannot be decoded is the client's mistake: answered 400 here, before routing, instead
// of a URIError deep in a route's parameter decoding.
import type { RequestHandler } from 'express';
import { sendProblem } from './problem.ts';

export const refuseMalformedPaths: RequestHandler = (req, res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    sendProblem(res, 400, 'MalformedPath', 'The path has malformed percent-encoding');
    return;
  }
  next();
};
