import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'examples/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Generous: property tests and database races share two cores with everything else in CI.
    // No test asserts on time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'junit'],
    outputFile: { junit: 'reports/junit.xml' },
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'] },
  },
});
