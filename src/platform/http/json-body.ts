// The JSON body parser of every listener. Before JSON.parse runs, the raw bytes are scanned once:
// nesting deeper than JSON_MAX_DEPTH is refused (anything recursive later — validation, the
// idempotency hash — could otherwise overflow the stack on a body a few kilobytes long), and so
// is a NUL character anywhere (Postgres refuses it in text and jsonb, SQLite would store it: the
// two engines must answer the same). `application/merge-patch+json` is JSON too (RFC 7396).
import express, { type RequestHandler } from 'express';

export const JSON_TYPES = ['application/json', 'application/merge-patch+json'];

export class BodyRefused extends Error {
  readonly type: string;
  readonly status = 400;
  readonly expose = true;
  constructor(type: 'entity.too.deep' | 'entity.nul', message: string) {
    super(message);
    this.type = type;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/** Throws BodyRefused when `buf` nests deeper than `maxDepth` or holds a NUL; otherwise returns. */
export function scanJson(buf: Buffer, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 0) throw new BodyRefused('entity.nul', 'The body contains a NUL character');
    if (inString) {
      if (c === BACKSLASH) {
        // \u0000 is NUL written as an escape.
        if (buf[i + 1] === 0x75 && buf.toString('latin1', i + 2, i + 6) === '0000') throw new BodyRefused('entity.nul', 'The body contains a NUL character (\\u0000)');
        i++;
      } else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) throw new BodyRefused('entity.too.deep', `The body nests deeper than ${maxDepth} levels`);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
}

export function jsonBody(o: { limit: string; maxDepth: number; anyContentType?: boolean }): RequestHandler {
  return express.json({
    limit: o.limit,
    strict: true,
    type: o.anyContentType ? () => true : JSON_TYPES,
    verify: (_req, _res, buf) => scanJson(buf, o.maxDepth),
  });
}
