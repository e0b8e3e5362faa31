// `npm run token -- --sub alice [--scope admin] [--expires 12h]`: a development JWT, printed on
// the last line so scripts can capture it with `| tail -n 1`.
import { parseArgs } from 'node:util';
import { mintToken } from '../src/platform/auth/jwt.ts';
import { loadConfig, ConfigError } from '../src/platform/config/env.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string', multiple: true, default: [] },
    expires: { type: 'string', default: '12h' },
  },
});
if (!values.sub) {
  console.error('usage: npm run token -- --sub <user> [--scope admin] [--expires 12h]');
  process.exit(2);
}
try {
  const config = loadConfig();
  if (!config.jwtSecret) throw new Error('This deployment verifies tokens against JWT_JWKS_URL: get a token from that identity provider, or set JWT_SECRET to sign development ones');
  const scopes = values.scope.flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
  console.error(`token for ${values.sub}${scopes.length ? ` with scope ${scopes.join(' ')}` : ''}, valid ${values.expires}:`);
  console.log(await mintToken({ sub: values.sub, scopes, secret: config.jwtSecret, expiresIn: values.expires, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }));
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
  process.exit(1);
}
