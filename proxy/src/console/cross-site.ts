// The admin API and the console answer their own origin only. Tokens travel in the Authorization
// header (never a cookie, never the URL), so a page elsewhere cannot borrow an operator's session;
// on top of that, anything a browser marks as coming from another site (Sec-Fetch-Site), or whose
// Origin is not this listener's own, is refused before it is read, and no CORS header is ever sent,
// so a browser never lets another origin read an answer either.
import type { IncomingMessage } from 'node:http';

/** Why a request to the admin API is refused as cross-site; undefined when it may go on. */
export function crossSiteRefusal(req: IncomingMessage): string | undefined {
  if (req.method === 'OPTIONS') return 'the admin API answers its own origin only: no cross-origin requests (CORS) are allowed';
  const site = req.headers['sec-fetch-site'];
  // `none`: typed in or bookmarked by the user; absent: not a browser (curl, scripts).
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `a ${site} request may not use the admin API`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (!host || host !== req.headers.host) return `a request from ${origin} may not use the admin API of ${req.headers.host ?? 'this host'}`;
  }
  return undefined;
}

/** On every answer of the admin API and the console: nothing framed, sniffed, cached or leaked. */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The page's policy: its own scripts, styles and calls only; no inline script, never in a frame. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
