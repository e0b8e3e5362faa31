// promtool (from Prometheus) checks the rules, their unit tests, the dashboards' queries and every
// deployable's /metrics. Where it is missing the tests fail saying how to install it: a skipped
// check would let a broken alert or a renamed metric through unnoticed.
import { spawnSync } from 'node:child_process';

export interface PromtoolResult {
  code: number | null;
  /** stdout and stderr together: promtool prints lint findings on one and errors on the other. */
  output: string;
}

export function promtool(args: string[], input?: string, bin = 'promtool'): PromtoolResult {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed; it comes with Prometheus: apt-get install prometheus (Debian/Ubuntu), or put a Prometheus release\'s promtool on PATH');
  }
  if (r.error) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
