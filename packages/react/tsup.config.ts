import { defineConfig } from 'tsup';

export default defineConfig({
  // The emails and the admin analytics (with recharts) are entries of their own: the customer
  // widgets' bundle never carries a mail renderer or a chart library.
  entry: { index: 'src/index.ts', emails: 'src/emails/index.ts', admin: 'src/admin/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: ['react', 'react-dom', '@tally/core', 'recharts'],
});
