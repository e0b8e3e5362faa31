// Q: how does a team adopt the rules on a codebase that already breaks them? A ratchet, not a wall
// (Packwerk's package_todo.yml): today's violations are recorded in dependency-cruiser's
// known-violations format, the check fails only on violations not in that file, and fixed ones
// are reported so the baseline can shrink.
import type { IViolation } from 'dependency-cruiser';
import type { Finding } from './module-rules.ts';

export const BASELINE_FILE = '.dependency-cruiser-known-violations.json';

export function violationKey(v: IViolation): string {
  return [v.rule.name, v.from, v.to, ...(v.cycle ?? []).map((c) => c.name)].join('|');
}

export interface BaselineDiff {
  /** Not in the baseline: these fail the check. */
  fresh: Finding[];
  /** In the baseline and still there. */
  known: Finding[];
  /** In the baseline but fixed since: refresh the baseline to drop them. */
  fixed: IViolation[];
}

export function diffBaseline(current: readonly Finding[], baseline: readonly IViolation[]): BaselineDiff {
  const recorded = new Set(baseline.map(violationKey));
  const now = new Set(current.map(violationKey));
  return {
    fresh: current.filter((v) => !recorded.has(violationKey(v))),
    known: current.filter((v) => recorded.has(violationKey(v))),
    fixed: baseline.filter((v) => !now.has(violationKey(v))),
  };
}

/** The baseline file's content: sorted, without the per-case detail, so diffs in review stay small. */
export function serializeBaseline(current: readonly Finding[]): string {
  const entries = current
    .map(({ detail: _detail, ...v }) => ({
      type: v.type ?? 'dependency',
      from: v.from,
      to: v.to,
      rule: { name: v.rule.name, severity: v.rule.severity },
      ...(v.cycle ? { cycle: v.cycle.map((c) => ({ name: c.name, dependencyTypes: c.dependencyTypes })) } : {}),
    }))
    .sort((a, b) => violationKey(a as IViolation).localeCompare(violationKey(b as IViolation)));
  return `${JSON.stringify(entries, null, 2)}\n`;
}
