import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { crossSiteRefusal } from './cross-site.ts';

const req = (method: string, headers: Record<string, string>) => ({ method, headers: { host: '127.0.0.1:9080', ...headers } }) as unknown as IncomingMessage;

describe('cross-site requests to the admin API', () => {
  it('lets through the console’s own calls and callers that are not browsers', () => {
    expect(crossSiteRefusal(req('PUT', { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:9080' }))).toBeUndefined();
    expect(crossSiteRefusal(req('GET', { 'sec-fetch-site': 'same-origin' }))).toBeUndefined();
    expect(crossSiteRefusal(req('POST', {}))).toBeUndefined(); // curl
  });

  it('refuses what a browser marks as coming from elsewhere, a foreign or opaque Origin, and preflights', () => {
    expect(crossSiteRefusal(req('PUT', { 'sec-fetch-site': 'cross-site' }))).toMatch(/cross-site request/);
    expect(crossSiteRefusal(req('PUT', { 'sec-fetch-site': 'same-site' }))).toMatch(/same-site request/);
    expect(crossSiteRefusal(req('PUT', { origin: 'http://evil.example' }))).toMatch(/from http:\/\/evil\.example/);
    expect(crossSiteRefusal(req('PUT', { origin: 'http://127.0.0.1:8080' }))).toMatch(/from http:\/\/127\.0\.0\.1:8080/);
    expect(crossSiteRefusal(req('POST', { origin: 'null' }))).toMatch(/from null/);
    expect(crossSiteRefusal(req('OPTIONS', { origin: 'http://127.0.0.1:9080' }))).toMatch(/no cross-origin requests/);
  });
});
