// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive (RFC 9110
// §11.1), so `bearer`, `BEARER` and `Bearer` are the same; anything else is no token at all.
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return BEARER.exec(header)?.[1];
}
