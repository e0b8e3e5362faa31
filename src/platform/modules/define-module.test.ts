// What defineModule checks of a declaration before any kernel sees it.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineModule } from './define-module.ts';
import { defineManifest } from './manifest.ts';
import { defineEvent } from '../bus/define-event.ts';
import { defineSchema } from '../data/schema-kit.ts';

const Published = defineEvent('Published', 2, z.object({}));
const Foreign = defineEvent('Foreign', 1, z.object({}));
const manifest = defineManifest({ name: 'keeper', purpose: 'test', publishes: [Published], subscribes: [], dependsOn: [], publicPaths: [] });
const schema = defineSchema('keeper', () => ({}));

describe('defineModule', () => {
  it('names the events a module keeps in its outbox by their keys', () => {
    expect(defineModule({ manifest, schema, keepsEvents: [Published], setup: () => ({}) }).keptEvents).toEqual(['Published.v2']);
    expect(defineModule({ manifest, schema, setup: () => ({}) }).keptEvents).toEqual([]);
  });

  it('refuses to keep an event the module does not publish', () => {
    expect(() => defineModule({ manifest, schema, keepsEvents: [Foreign], setup: () => ({}) })).toThrow('module keeper keeps Foreign.v1 in its outbox but publishes no Foreign');
  });

  it('keeps a retired version of an event it still publishes, for the rows stored before the new one', () => {
    const Retired = defineEvent('Published', 1, z.object({}));
    expect(defineModule({ manifest, schema, keepsEvents: [Retired, Published], setup: () => ({}) }).keptEvents).toEqual(['Published.v1', 'Published.v2']);
  });
});
