import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'examples/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    reporters: ['default', 'junit'],
    outputFile: { junit: 'reports/junit.xml' },
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'] },
  },
});
