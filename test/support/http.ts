import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves `app` (an express app, say) on a loopback port of the kernel's choice; `close` ends its connections and the server. */
export async function serveOnLoopback(app: RequestListener): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A small fetch wrapper for tests: JSON in, status + parsed body + headers out. */
export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Sees every answer a client gets (a test checking them all against the OpenAPI document). */
export type ReplyObserver = (method: string, path: string, reply: Reply, contentType: string | null) => void;

export function client(baseUrl: string, token?: string, observe?: ReplyObserver) {
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const init: RequestInit = {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const res = await fetch(baseUrl + path, init).catch((err: unknown) => {
      // A pooled keep-alive connection the server closed at its keep-alive timeout, while a client
      // starved of CPU still took it for open, resets the request before any answer. A request that
      // may be repeated (a safe method, or one carrying an idempotency key) is sent again once, as
      // HTTP clients do (RFC 9110, 9.2.2); any other error, or a second one, is the test's to see.
      const repeatable = ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method) || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
      if (!repeatable || (err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
      return fetch(baseUrl + path, init);
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    const reply = { status: res.status, body: parsed as T, headers: res.headers };
    observe?.(method, path, reply, res.headers.get('content-type'));
    return reply;
  }
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('PATCH', path, body, headers),
    call,
  };
}

/**
 * Places an order of one `sku` as the bearer of `token` and follows it with long-polls until it is
 * no longer PENDING (ten polls of up to 10 s at most); answers its final state's code.
 */
export async function orderToItsEnd(baseUrl: string, token: string, sku = 'TEA-GREEN-100'): Promise<string> {
  const api = client(baseUrl, token);
  const placed = await api.post<{ id: string }>('/api/v1/orders', { items: [{ sku, quantity: 1 }] });
  if (placed.status !== 202) throw new Error(`placing an order answered ${placed.status}: ${JSON.stringify(placed.body)}`);
  let state = 'PENDING';
  for (let polls = 0; state === 'PENDING' && polls < 10; polls++) {
    state = (await api.get<{ state: { code: string } }>(`/api/v2/orders/${placed.body.id}?waitSeconds=10`)).body.state.code;
  }
  return state;
}
