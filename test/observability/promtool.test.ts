import { expect, it } from 'vitest';
import { promtool } from './promtool.ts';

it('fails, naming the package to install, where promtool is missing', () => {
  expect(() => promtool(['--version'], undefined, 'promtool-that-is-not-installed')).toThrow('apt-get install prometheus');
});

it('runs the installed promtool', () => {
  const r = promtool(['--version']);
  expect(r.output).toContain('promtool, version');
  expect(r.code).toBe(0);
});
