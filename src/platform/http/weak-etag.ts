// The ETag express puts on every answer it sends (a weak tag: body length and SHA-1, so a client
// can revalidate with If-None-Match), computed as the `etag` package does, with one call to
// crypto.hash instead of a Hash object per answer, and without copying a string body into a Buffer.
import { hash } from 'node:crypto';

export function weakEtag(body: string | Buffer, encoding?: BufferEncoding): string {
  const text = typeof body === 'string' && (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8');
  const data = text ? body : Buffer.isBuffer(body) ? body : Buffer.from(body, encoding);
  const length = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  return `W/"${length.toString(16)}-${hash('sha1', data, 'base64').substring(0, 27)}"`;
}
