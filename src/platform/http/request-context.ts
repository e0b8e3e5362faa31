// Every request runs inside a context holding its request id (X-Request-Id honoured or
// generated, and echoed back), its correlation id and its W3C trace parent.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithContext } from '../context/request-context.ts';
import { childTraceparent } from '../bus/envelope.ts';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentFormat = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const requestContext: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const requestId = given && safeId.test(given) ? given : randomUUID();
  const correlation = req.get('x-correlation-id');
  const parent = req.get('traceparent');
  const traceparent = childTraceparent(parent && traceparentFormat.test(parent) ? parent : undefined);
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('traceparent', traceparent);
  runWithContext(
    { requestId, correlationId: correlation && safeId.test(correlation) ? correlation : requestId, traceparent },
    next,
  );
};
