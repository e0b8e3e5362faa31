// Reads what deploy/observability/ ships — the alert rules, their unit tests, the dashboards, the
// runbooks — and the PromQL inside them, for the tests beside this file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const OBSERVABILITY = resolve(import.meta.dirname, '../../deploy/observability');
export const RULES = join(OBSERVABILITY, 'alerts', 'rules.yml');
export const RULE_TESTS = join(OBSERVABILITY, 'alerts', 'rules.test.yml');
export const DASHBOARDS = join(OBSERVABILITY, 'dashboards');

export interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

export interface RuleTestCase {
  name?: string;
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

export function ruleTestCases(): RuleTestCase[] {
  return (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: RuleTestCase[] }).tests;
}

export interface Dashboard {
  file: string;
  json: {
    uid: string;
    title: string;
    templating: { list: { name: string }[] };
    panels: { id: number; type: string; title: string; repeat?: string; gridPos: { h: number; w: number; x: number; y: number }; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };
}

export function dashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard['json'] }));
}

/** A dashboard query as plain PromQL: Grafana's variables replaced by values of the right shape. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?(\w+)(?::\w+)?\}?/g, 'x');
}

const NOT_METRICS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'Inf', 'NaN']);

/**
 * The metric names a PromQL expression reads: every identifier that is not inside a label matcher,
 * a range, a grouping clause or a string, not a function or aggregation (those are followed by a
 * parenthesis) and not a keyword.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = m[0];
    if (/^\d/.test(token) || NOT_METRICS.has(token)) continue;
    if (/^\s*\(/.test(bare.slice((m.index ?? 0) + token.length))) continue;
    names.add(token);
  }
  return [...names];
}
