import { defineConfig } from 'vitest/config';

// Two speeds: `fast` is unit and module tests (each module alone on its own store, the shared lib,
// the platform's pieces), the edit-test loop; `slow` is everything that starts processes, runs the
// system end to end, crashes things or shifts traffic. `npm test` runs both;
// `npm run test:fast` runs `fast` alone.
const fast = ['lib/**/*.test.ts', 'src/**/*.test.ts', 'proxy/src/**/*.test.ts'];
// Inside src/, these start child processes: they belong with the slow ones.
const slowInSrc = ['src/platform/kernel/graceful-shutdown.test.ts', 'src/platform/config/env.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and databases; two cores do not like many at once.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'fast', include: fast, exclude: slowInSrc } },
      {
        extends: true,
        test: {
          name: 'slow',
          include: ['proxy/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts', 'deploy/**/*.test.ts', ...slowInSrc],
          exclude: ['proxy/src/**/*.test.ts'],
        },
      },
    ],
  },
});
