import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite` (dev) serves the app and passes the API through to the dashboard server, which must be
// running (`pnpm --filter dashboard start`); `vite build` writes the app to examples/dashboard/dist,
// which that server serves in production.
const api = process.env.TALLY_DASHBOARD_SERVER ?? 'http://localhost:3000';

export default defineConfig({
  root: fileURLToPath(new URL('./src/app', import.meta.url)),
  plugins: [react()],
  build: { outDir: '../../dist', emptyOutDir: true },
  server: {
    proxy: {
      '/v1': api,
      '/demo': api,
      '/sandbox': api,
      '/docs': api,
      '/redoc': api,
    },
  },
});
