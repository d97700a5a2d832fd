import { configDefaults, defineConfig } from 'vitest/config';

// The pack-and-install test runs on its own (`npm run test:pack`, the last step of `npm test`):
// `npm pack` rebuilds dist/, which other test files read, so it must not run beside them.
export const PACK_TEST = 'test/pack/pack-install.test.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, PACK_TEST],
    testTimeout: 60_000,
  },
});
