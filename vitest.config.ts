import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'examples/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Generous: property tests and database races share two cores with everything else in CI.
    // No test asserts on time.
    testTimeout: 60_000,
    // Two files at a time (the default leaves one core idle on a 2-core machine): much of the suite
    // waits on Postgres, Chromium and child processes rather than on its own CPU.
    maxWorkers: 2,
    hookTimeout: 60_000,
    reporters: ['default', 'junit'],
    outputFile: { junit: 'reports/junit.xml' },
    // The type tests and what they import, not every file of the repository (scripts and examples
    // run .ts files directly and have tsconfigs of their own).
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.test-d.json' },
  },
});
