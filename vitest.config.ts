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
    // The type tests and what they import, not every file of the repository (scripts and examples
    // run .ts files directly and have tsconfigs of their own).
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.test-d.json' },
  },
});
