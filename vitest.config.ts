import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'src/**/*.test.ts', 'proxy/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and databases; two cores do not like many at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
