// `res.json` for the answer nearly every route gives: a JSON body on a response with no
// Content-Type, ETag or Transfer-Encoding of its own, to a request that is not conditional. It sets
// the headers express's `res.json` → `res.send` would (Content-Type with its charset, Content-Length,
// the weak ETag) in three `setHeader` calls, where express parses and re-formats the content type
// twice, reads four settings, copies the body into a Buffer and runs its freshness check. Anything
// else (a conditional GET, a HEAD, a 204/205/304, a header a handler set) goes to express's own.
// Installed on each listener's app (`app.response` is express's prototype for `res`).
import type { Express, Response } from 'express';
import { weakEtag } from './weak-etag.ts';

const CONTENT_TYPE = 'application/json; charset=utf-8';

export function installJsonAnswer(app: Express): void {
  // The shortcut assumes the defaults it skips reading; refuse to install beside settings it would ignore.
  for (const setting of ['json escape', 'json replacer', 'json spaces']) {
    if (app.get(setting)) throw new Error(`installJsonAnswer: the app sets '${setting}', which the JSON answer does not apply`);
  }
  if (app.get('etag fn') !== weakEtag) throw new Error("installJsonAnswer: the app's ETag function must be weakEtag");
  const expressJson = app.response.json;
  app.response.json = function json(this: Response, value: unknown): Response {
    const req = this.req;
    const status = this.statusCode;
    const plain =
      req.method !== 'HEAD' &&
      status !== 204 &&
      status !== 205 &&
      status !== 304 &&
      req.headers['if-none-match'] === undefined &&
      req.headers['if-modified-since'] === undefined &&
      !this.hasHeader('Content-Type') &&
      !this.hasHeader('ETag') &&
      !this.hasHeader('Transfer-Encoding');
    const body = plain ? JSON.stringify(value) : undefined;
    if (body === undefined) return expressJson.call(this, value);
    this.setHeader('Content-Type', CONTENT_TYPE);
    this.setHeader('Content-Length', Buffer.byteLength(body, 'utf8'));
    this.setHeader('ETag', weakEtag(body));
    this.end(body, 'utf8');
    return this;
  };
}
