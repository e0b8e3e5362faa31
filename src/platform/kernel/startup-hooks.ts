// Which start-up hooks this process registered before loading the app. Every entry point (the
// monolith, `npm run service`, an extracted service's bundle) imports the same hook files first;
// bootstrap logs the list, so a deployable started without them is visible rather than just slow.
const registry = Symbol.for('strangler.startup-hooks');

type WithHooks = typeof globalThis & { [registry]?: string[] };

export function markStartupHook(name: string): void {
  const g = globalThis as WithHooks;
  (g[registry] ??= []).push(name);
}

export function startupHooks(): readonly string[] {
  return (globalThis as WithHooks)[registry] ?? [];
}
