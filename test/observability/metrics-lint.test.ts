import { beforeAll, describe, expect, it } from 'vitest';
import { promtool } from './promtool.ts';
import { exportedNames, scrapeEveryDeployable, type Scrape } from './scrape-deployables.ts';
import { alertRules, dashboards, metricNames, withoutGrafanaVariables } from './observability-files.ts';

let scrapes: Scrape[] = [];

beforeAll(async () => {
  scrapes = await scrapeEveryDeployable();
});

describe('/metrics of every deployable', () => {
  for (const deployable of ['monolith', 'payments-service', 'proxy']) {
    it(`passes promtool check metrics with no findings on the ${deployable}`, () => {
      const scrape = scrapes.find((s) => s.deployable === deployable);
      expect(scrape?.text).toContain('# TYPE');
      const r = promtool(['check', 'metrics'], scrape!.text);
      expect(r.output).toBe('');
      expect(r.code).toBe(0);
    });
  }
});

// A metric renamed in the code and not in a dashboard or an alert would leave an empty panel or an
// alert that can never fire; here it fails instead.
describe('dashboards and alerts read only metrics the deployables export', () => {
  it('every metric a dashboard or an alert rule reads is in some deployable\'s /metrics', () => {
    const exported = new Set(scrapes.flatMap((s) => [...exportedNames(s.text)]));
    const used = [
      ...dashboards().flatMap(({ file, json }) =>
        json.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(withoutGrafanaVariables(t.expr)).map((name) => ({ name, where: `${file} "${p.title}"` })))),
      ),
      ...alertRules().flatMap((r) => metricNames(r.expr).map((name) => ({ name, where: `alert ${r.alert}` }))),
    ];
    expect(used.length).toBeGreaterThan(50);
    expect(used.filter((u) => !exported.has(u.name)).map((u) => `${u.where}: ${u.name}`)).toEqual([]);
  });
});
