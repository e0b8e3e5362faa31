import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promtool } from './promtool.ts';
import { OBSERVABILITY, RULES, RULE_TESTS, alertRules, ruleTestCases } from './observability-files.ts';

describe('alert rules', () => {
  it('load in Prometheus (promtool check rules)', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', RULE_TESTS]);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('are the alerts operators were promised', () => {
    expect(alertRules().map((r) => r.alert).sort()).toEqual([
      'AppHighErrorRate',
      'AppHighLatency',
      'CanaryRolledBack',
      'DeadLetters',
      'DependencyCircuitOpen',
      'OutboxBacklogHigh',
      'OutboxRelayStalled',
      'ProxyHighErrorRate',
      'ProxyHighLatency',
      'ProxyUpstreamOutOfRotation',
      'RemoteModuleCircuitOpen',
      'SagasParked',
    ]);
  });

  it('each have a unit test where they fire and one where they stay quiet', () => {
    const checks = ruleTestCases().flatMap((t) => t.alert_rule_test ?? []);
    const missing = alertRules().flatMap((r) => {
      const mine = checks.filter((c) => c.alertname === r.alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${r.alert} never tested firing`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${r.alert} never tested quiet`]),
      ];
    });
    expect(missing).toEqual([]);
  });

  it('each carry a severity, a summary, a description and a runbook section that exists', () => {
    const runbooks = readFileSync(join(OBSERVABILITY, 'runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    const problems = alertRules().flatMap((r) => {
      const a = r.annotations ?? {};
      const anchor = /^deploy\/observability\/runbooks\.md#(.+)$/.exec(a.runbook_url ?? '')?.[1];
      return [
        ...(['critical', 'warning'].includes(r.labels?.severity ?? '') ? [] : [`${r.alert}: severity`]),
        ...(a.summary ? [] : [`${r.alert}: summary`]),
        ...(a.description ? [] : [`${r.alert}: description`]),
        ...(anchor && anchors.has(anchor) ? [] : [`${r.alert}: runbook_url ${a.runbook_url ?? '(none)'} names no section of runbooks.md`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('are loaded by the example Prometheus configuration (promtool check config)', () => {
    const r = promtool(['check', 'config', join(OBSERVABILITY, 'prometheus.yml')]);
    expect(r.output).toContain('SUCCESS: 12 rules found');
    expect(r.code).toBe(0);
  });
});
