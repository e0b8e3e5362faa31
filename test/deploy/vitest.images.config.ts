// The image tests (npm run test:images): kept out of `npm test`'s files because they build images
// with podman; scripts/test-images.mjs runs them, one file after another.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/deploy/*.flow.ts'],
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
    fileParallelism: false,
  },
});
