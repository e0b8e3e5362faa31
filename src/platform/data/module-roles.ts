// Q31 at runtime: on Postgres each module connects as its own role, which `npm run migrate`
// creates with rights on the module's schema only. Where roles have not been set up (a database
// URL that carries no module roles), the admin URL is used as is.
export function moduleRole(module: string): string {
  return `module_${module}`;
}

export function moduleDatabaseUrl(adminUrl: string, module: string, useRoles = process.env.PG_MODULE_ROLES !== 'false'): string {
  if (!useRoles) return adminUrl;
  const url = new URL(adminUrl);
  url.username = moduleRole(module);
  const password = process.env[`PG_PASSWORD_${module.toUpperCase()}`];
  url.password = password ?? '';
  return url.toString();
}
