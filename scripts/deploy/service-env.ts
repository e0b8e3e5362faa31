// deploy/<module>/<module>.env: the environment of an extracted service run by hand beside the
// monolith (npm run service, or node deploy/<module>/dist/service.mjs). Written once, then it is
// yours: extract never rewrites it and reports where it differs from what it would write now.
// Its values are the ones in force when extract runs: MONOLITH_URLS and MODULE_<NAME>_URLS
// override the topology file's addresses, and DATABASE_URL (when set) gives the real Postgres
// settings — the module's role and the variable its password comes from.
import { moduleRole, rolePrefix } from '../../src/platform/data/module-roles.ts';
import { passwordVariable } from './split-system.ts';
import { RUNTIME_FLAGS } from './runtime-flags.ts';

export interface ServiceEnvOptions {
  module: string;
  port: number;
  internalPort: number;
  monolithUrls: readonly string[];
  /** DATABASE_URL in force, if any. */
  databaseUrl?: string;
  /** PG_ROLE_PREFIX in force, if any. */
  rolePrefix?: string;
  redisUrl: string;
  dataDir: string;
  topologyFile: string;
}

export function serviceEnvFile(o: ServiceEnvOptions): string {
  // The role the module connects as, named as the platform names it (module-roles.ts): prefixed per database.
  const role = o.databaseUrl ? moduleRole(rolePrefix(o.databaseUrl, o.rolePrefix), o.module) : moduleRole(o.rolePrefix ?? '<database>_module', o.module);
  const password = passwordVariable(o.module);
  const store = o.databaseUrl
    ? [
        `# Its store is its own Postgres schema "${o.module}", reached as role ${role} (created by npm run migrate),`,
        `# whose password comes from ${password}; the user in DATABASE_URL is replaced by that role.`,
        `DATABASE_URL=${withRole(o.databaseUrl, role)}`,
        `# ${password}=<the password npm run migrate gave ${role}: export it, as on the monolith>`,
      ]
    : [
        '# Its store is the one it always had: the same SQLite file under DATA_DIR, shared with the monolith',
        `# while migrating. On Postgres set DATABASE_URL as the monolith has it; ${o.module} then connects as`,
        `# role ${role} with the password in ${password}.`,
        `DATA_DIR=${o.dataDir}`,
      ];
  return `# Environment of the ${o.module} service run by hand, written once by npm run extract: yours to edit,
# never rewritten (a later extract tells you where it differs from what it would write then).
# Use: set -a; . deploy/${o.module}/${o.module}.env; set +a; npm run service -- ${o.module}
#  or: node ${RUNTIME_FLAGS.join(' ')} deploy/${o.module}/dist/service.mjs (a copy of deploy/${o.module} runs anywhere after npm install in it)
SERVICE_MODULE=${o.module}
# Public REST routes on PORT; contracts, /metrics and admin routes on INTERNAL_PORT, the address
# the topology gives ${o.module} (other deployables call it there).
PORT=${o.port}
INTERNAL_PORT=${o.internalPort}
# A module apart from the monolith meets it through Redis: the bus is BullMQ everywhere.
BUS=bullmq
REDIS_URL=${o.redisUrl}
${store.join('\n')}
# Where the other modules run, and the monolith's internal address for those still in it.
TOPOLOGY_FILE=${o.topologyFile}
MONOLITH_URLS=${o.monolithUrls.join(',')}
# Keys, the same on every deployable (required when NODE_ENV=production; outside production both come
# from DATA_DIR/dev-keys.json, as for the monolith):
# JWT_SECRET=<the end-user token key>
# SERVICE_JWT_SECRET=<at least 32 characters>
`;
}

function withRole(databaseUrl: string, role: string): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = '';
  return url.toString();
}
