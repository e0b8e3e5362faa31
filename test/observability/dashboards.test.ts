import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { renderDashboards } from '../../deploy/observability/dashboards.ts';
import { promtool } from './promtool.ts';
import { DASHBOARDS, dashboards, withoutGrafanaVariables } from './observability-files.ts';

describe('Grafana dashboards', () => {
  it('are committed as the code in deploy/observability builds them (npm run observability:dashboards)', () => {
    for (const [file, text] of Object.entries(renderDashboards())) expect(readFileSync(join(DASHBOARDS, file), 'utf8'), file).toBe(text);
  });

  it('cover the monolith, an extracted service, the proxy and a migration', () => {
    expect(dashboards().map((d) => d.json.title).sort()).toEqual(['Extracted service', 'Migration', 'Monolith', 'Strangler proxy']);
    const service = dashboards().find((d) => d.file === 'service.json')!;
    expect(service.json.templating.list.map((v) => v.name)).toContain('deployable');
  });

  it('are well formed: unique uids and panel ids, panels inside the grid, every query on the chosen data source, every variable declared', () => {
    const all = dashboards();
    expect(new Set(all.map((d) => d.json.uid)).size).toBe(all.length);
    const problems = all.flatMap(({ file, json }) => {
      const declared = new Set(json.templating.list.map((v) => v.name));
      const ids = json.panels.map((p) => p.id);
      return [
        ...(new Set(ids).size === ids.length ? [] : [`${file}: duplicate panel ids`]),
        ...json.panels.flatMap((p) => {
          const where = `${file} "${p.title}"`;
          if (p.type === 'row') return p.repeat && !declared.has(p.repeat) ? [`${where}: repeats over undeclared $${p.repeat}`] : [];
          const used = (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]!)).filter((v) => !v.startsWith('__'));
          return [
            ...(p.gridPos.x + p.gridPos.w <= 24 && p.gridPos.w > 0 && p.gridPos.h > 0 ? [] : [`${where}: outside the 24-column grid`]),
            ...((p.targets ?? []).length > 0 ? [] : [`${where}: no query`]),
            ...(p.datasource?.uid === '${datasource}' ? [] : [`${where}: not on the $datasource variable`]),
            ...used.filter((v) => !declared.has(v)).map((v) => `${where}: uses undeclared $${v}`),
          ];
        }),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('show, per route of a migration, the weight, traffic, error rate and p99 per side, fallbacks, shadow match rate and canary state', () => {
    const migration = dashboards().find((d) => d.file === 'migration.json')!.json;
    const row = migration.panels.find((p) => p.type === 'row');
    expect(row?.repeat).toBe('route');
    const exprs = migration.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of ['proxy_route_weight', 'proxy_requests_total', 'proxy_request_duration_seconds_bucket', 'proxy_fallbacks_total', 'proxy_shadow_match_ratio', 'proxy_canary_state']) {
      expect(exprs).toContain(metric);
    }
    expect(exprs).toMatch(/sum by \(side\) \(rate\(proxy_requests_total\{route="\$route", code="5xx"\}/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(le, side\)/);
  });

  it('hold only queries Prometheus parses (each checked by promtool as a recording rule)', () => {
    const rules = dashboards().flatMap(({ json }) =>
      json.panels.flatMap((p, i) => (p.targets ?? []).map((t, j) => ({ record: `dashboard:${json.uid.replace(/-/g, '_')}:${i}_${j}`, expr: withoutGrafanaVariables(t.expr) }))),
    );
    expect(rules.length).toBeGreaterThan(40);
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-queries-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const r = promtool(['check', 'rules', file]);
      expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
