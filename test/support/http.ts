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
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
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
