// Liveness says only that the process answers (it never checks dependencies, or a database
// outage would get every instance restarted); readiness says whether to send traffic here;
// startup says whether initialisation has finished.
import type { Router } from 'express';
import { strictRouter } from './strict-router.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HealthState {
  started: boolean;
  draining: boolean;
}

/** The probes' paths: counted under their own path, never logged; any other /health… path is unmatched. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/health/live', '/health/started', '/health/ready']);

export function healthRoutes(state: HealthState, checks: () => ReadinessCheck[], timeoutMs = 2000): Router {
  const router = strictRouter();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/started', (_req, res) => {
    res.status(state.started ? 200 : 503).json({ status: state.started ? 'ok' : 'starting' });
  });
  router.get('/health/ready', async (_req, res) => {
    const results: Record<string, string> = {};
    if (!state.started) results.startup = 'not finished';
    if (state.draining) results.shutdown = 'draining';
    await Promise.all(
      checks().map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs);
          results[name] = 'ok';
        } catch (err) {
          results[name] = (err as Error).message || 'failed';
        }
      }),
    );
    const ok = Object.values(results).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: results });
  });
  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
