import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    openrouter: 'src/openrouter/index.ts',
    'openrouter-testing': 'src/openrouter/testing.ts',
    postgres: 'src/postgres/index.ts',
    pglite: 'src/pglite/index.ts',
    stripe: 'src/stripe/index.ts',
    'stripe-testing': 'src/stripe/testing.ts',
    lago: 'src/lago/index.ts',
    keycloak: 'src/keycloak/index.ts',
    'ai-sdk': 'src/ai-sdk/index.ts',
    email: 'src/email/index.ts',
    scheduler: 'src/scheduler/index.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: ['@tally/core', 'pg', '@electric-sql/pglite', 'stripe', 'ky', 'msw', 'ai', '@ai-sdk/provider', 'nodemailer', 'croner'],
});
