// Every dashboard, by the file it is written to under dashboards/.
import { monolithDashboard, serviceDashboard } from './app-dashboards.ts';
import { migrationDashboard, proxyDashboard } from './proxy-dashboards.ts';

export const DASHBOARD_DIR = new URL('./dashboards/', import.meta.url);

export function renderDashboards(): Record<string, string> {
  const built = { 'monolith.json': monolithDashboard(), 'service.json': serviceDashboard(), 'proxy.json': proxyDashboard(), 'migration.json': migrationDashboard() };
  return Object.fromEntries(Object.entries(built).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}
