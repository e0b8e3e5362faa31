// On Postgres each module connects as its own role, which `npm run migrate`
// creates with rights on the module's schema only. Where roles have not been set up (a database
// URL that carries no module roles), the admin URL is used as is.
export function moduleRole(module: string): string {
  return `module_${module}`;
}

/** A module role's password, from PG_PASSWORD_<MODULE> (one variable per module, so read here, not in env.ts). */
export function modulePassword(module: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`PG_PASSWORD_${module.toUpperCase()}`] || undefined;
}

export function moduleDatabaseUrl(adminUrl: string, module: string, useRoles: boolean): string {
  if (!useRoles) return adminUrl;
  const url = new URL(adminUrl);
  url.username = moduleRole(module);
  url.password = modulePassword(module) ?? '';
  return url.toString();
}
