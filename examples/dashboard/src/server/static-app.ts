/**
 * The built React app (`vite build` → examples/dashboard/dist): `index.html` for the app's own paths
 * (client-side routing), other files as they are, hashed assets cached for a year. Without a build the
 * pages say how to make one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type MiddlewareHandler } from 'hono';

export const DEFAULT_DIST_DIR = fileURLToPath(new URL('../../dist', import.meta.url));

/** Paths the app routes itself: each gets index.html. */
export const APP_PATHS = ['/', '/app', '/app/*', '/admin', '/admin/*'];

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Build the dashboard</title>
<style>:root{color-scheme:light dark}body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}code{font-size:.95em}</style></head>
<body><main><h1>The dashboard app is not built yet</h1><p>Build it once, then reload:</p><pre><code>pnpm --filter dashboard build</code></pre>
<p>The API works already: <a href="/docs">API docs</a>, <a href="/v1/health">/v1/health</a>.</p></main></body></html>`;

export function staticApp(distDir: string = DEFAULT_DIST_DIR): Hono {
  const app = new Hono();
  const indexFile = join(distDir, 'index.html');
  let cached: string | null = null;

  const index = async () => {
    if (!existsSync(indexFile)) {
      cached = null;
      return new Response(NOT_BUILT, {
        status: 503,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '30' },
      });
    }
    cached ??= await readFile(indexFile, 'utf8');
    return new Response(cached, {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'same-origin',
      },
    });
  };
  for (const path of APP_PATHS) app.get(path, index);

  // Made once the folder exists (the app may be built while the server runs).
  let assets: MiddlewareHandler | null = null;
  let files: MiddlewareHandler | null = null;
  app.use('/assets/*', (c, next) => {
    if (!existsSync(distDir)) return next();
    assets ??= serveStatic({
      root: distDir,
      onFound: (_path, context) => {
        context.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
    return assets(c, next);
  });
  app.use('*', (c, next) => {
    if (!existsSync(distDir)) return next();
    files ??= serveStatic({ root: distDir });
    return files(c, next);
  });
  return app;
}
