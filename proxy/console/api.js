// Calls to the admin API with the operator's token as a bearer header. The token lives in this
// tab's session storage only: never a cookie (nothing another site could ride on), never a URL.

const KEY = 'migration-console.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An answer the API gave, with the problem's code and detail. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** `api('summary')`, `api('routes/orders/weight', { method: 'PUT', body: { weight: 10 } })`. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { authorization: `Bearer ${token.get() ?? ''}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // A network failure throws a TypeError here: the caller treats it as a lost connection.
  const res = await fetch(`/_proxy/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit', signal });
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, data.code, data.detail);
  return data;
}
