import { defineConfig } from 'vitest/config';

// One test config for the whole workspace: unit tests are `*.test.ts` beside the code, integration tests
// `*.int.test.ts`; Playwright's e2e specs live in e2e/ and run through e2e/playwright.config.ts instead.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**', '**/dist/**'],
    testTimeout: 30_000,
  },
});
