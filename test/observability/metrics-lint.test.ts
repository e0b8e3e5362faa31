import { beforeAll, describe, expect, it } from 'vitest';
import { promtool } from './promtool.ts';
import { scrapeEveryDeployable, type Scrape } from './scrape-deployables.ts';

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
