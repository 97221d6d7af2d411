import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { openrouter: 'src/openrouter/index.ts', postgres: 'src/postgres/index.ts', pglite: 'src/pglite/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: ['@tally/core', 'pg', '@electric-sql/pglite'],
});
