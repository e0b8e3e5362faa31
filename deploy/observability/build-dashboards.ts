// `npm run observability:dashboards` writes the Grafana dashboards (dashboards/*.json) from the
// code beside this file; `-- --check` only says whether the committed files are up to date (the
// tests run the same check, so an edit to the code cannot ship without its JSON).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIR, renderDashboards } from './dashboards.ts';

const check = process.argv.includes('--check');
const dir = fileURLToPath(DASHBOARD_DIR);
const stale: string[] = [];
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries(renderDashboards())) {
  const path = `${dir}${file}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) stale.push(file);
  else writeFileSync(path, text);
}
if (stale.length > 0) {
  console.error(`dashboards out of date: ${stale.join(', ')}; run npm run observability:dashboards`);
  process.exitCode = 1;
} else {
  console.log(check ? 'dashboards are up to date' : `dashboards written to ${dir}`);
}
