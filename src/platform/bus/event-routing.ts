// Who receives what: derived from every module's manifest, so a producer's relay knows the
// subscribers of an event even when they run in another process.
import type { ModuleManifest } from '../modules/manifest.ts';

export type EventRouting = (eventKey: string) => readonly string[];

export function eventRouting(manifests: readonly ModuleManifest[]): EventRouting {
  const routes = new Map<string, string[]>();
  for (const m of manifests) {
    for (const e of m.subscribes) routes.set(e.key, [...(routes.get(e.key) ?? []), m.name]);
  }
  return (key) => routes.get(key) ?? [];
}
