import { defineConfig } from 'tsup';

// One output file per source module (no bundling), so an app's bundler can drop the modules it
// doesn't import: formatting credits must not pull in zod and the catalog schema.
export default defineConfig({
  entry: ['src/**/*.ts', '!src/**/*.test.ts', '!src/**/*.test-d.ts', '!src/**/test-support.ts'],
  bundle: false,
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', http: 'src/http/index.ts', client: 'src/client/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
