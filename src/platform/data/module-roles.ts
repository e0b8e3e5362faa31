// On Postgres each module connects as its own role, which `npm run migrate` creates with rights on
// the module's schema only. Roles are cluster-wide while schemas live in one database, so a role's
// name carries a prefix of its database (PG_ROLE_PREFIX, default `<database>_module`): two
// databases on one cluster — staging and production, or two test runs — never share or overwrite
// each other's roles and passwords. Where roles have not been set up (PG_MODULE_ROLES=false), the
// admin URL is used as is.
import { createHash } from 'node:crypto';

const MAX_IDENTIFIER = 63;

/** The prefix of every module role for this database. */
export function rolePrefix(databaseUrl: string, configured?: string): string {
  if (configured) return configured;
  const database = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'postgres';
  const safe = database.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1');
  // Long database names are cut and given a short hash, so two of them cannot meet in one prefix.
  const cut = safe.length > 30 ? `${safe.slice(0, 21)}_${createHash('sha256').update(database).digest('hex').slice(0, 8)}` : safe;
  return `${cut}_module`;
}

export function moduleRole(prefix: string, module: string): string {
  const role = `${prefix}_${module.replace(/-/g, '_')}`;
  if (role.length > MAX_IDENTIFIER) throw new Error(`the role name ${role} is longer than Postgres allows (${MAX_IDENTIFIER}); set a shorter PG_ROLE_PREFIX`);
  return role;
}

/** A module role's password, from PG_PASSWORD_<MODULE> (one variable per module, so read here, not in env.ts). */
export function modulePassword(module: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`PG_PASSWORD_${module.toUpperCase().replace(/-/g, '_')}`] || undefined;
}

export function moduleDatabaseUrl(adminUrl: string, module: string, o: { useRoles: boolean; prefix?: string }): string {
  if (!o.useRoles) return adminUrl;
  const url = new URL(adminUrl);
  url.username = moduleRole(rolePrefix(adminUrl, o.prefix), module);
  url.password = modulePassword(module) ?? '';
  return url.toString();
}
