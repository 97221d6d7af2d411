import { defineConfig } from 'tsup';

export default defineConfig({
  // The emails are an entry of their own: the widgets' bundle never carries a mail renderer.
  entry: { index: 'src/index.ts', emails: 'src/emails/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: ['react', 'react-dom', '@tally/core'],
});
