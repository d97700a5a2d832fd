import { defineConfig } from 'vitest/config';
import { PACK_TEST } from './vitest.config.js';

export default defineConfig({
  test: {
    include: [PACK_TEST],
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
