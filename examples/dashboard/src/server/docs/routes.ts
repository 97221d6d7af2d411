/**
 * The API docs portal as a Hono app to mount at `/`:
 *
 *   app.route('/', createDocsApp({
 *     openapi: async () => (await handler(new Request('http://localhost/v1/openapi.json'))).json(),
 *     apiBase: '', // the handler is on this origin with basePath ''
 *   }));
 *
 * Mount it before any catch-all (the SPA fallback), so `/docs/*` reaches it.
 *
 * - `/docs`: Scalar's interactive reference in Tally's colours, light and dark;
 * - `/redoc`: the same document in Redoc;
 * - `/docs/openapi.json`: the document with `x-codeSamples` (curl, JavaScript, Python) on every operation;
 * - `/docs/guides`, `/docs/guides/<slug>`: getting started, authentication, webhooks;
 * - `/docs/assets/*`: this folder's CSS and scripts, Tally's styles.css and the Scalar and Redoc
 *   browser bundles, served from node_modules. Nothing is loaded from another origin.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TallyError } from '@tally/core';
import { Hono } from 'hono';
import { findGuide, GUIDES } from './guides.ts';
import { ASSETS, guidePage, guidesIndexPage, notFoundPage, redocPage, scalarPage } from './pages.ts';
import { type Palette, parsePalette, redocTheme } from './palette.ts';
import { portalDocument } from './portal-document.ts';

export interface DocsAppOptions {
  /** The OpenAPI document, asked for on each request of `/docs/openapi.json` (e.g. the handler's `GET /v1/openapi.json`). */
  openapi: () => Promise<object> | object;
  /**
   * Where the Tally handler is mounted: `''` (this origin, no prefix), a path such as `/api`, or an
   * absolute URL. Code samples and "Test Request" call it; the document's paths start with `/v1`.
   */
  apiBase: string;
}

const require = createRequire(import.meta.url);
const OWN_ASSETS = join(import.meta.dirname, 'assets');
const SCALAR_BROWSER = join(dirname(require.resolve('@scalar/api-reference')), 'browser');
const REDOC_BUNDLES = dirname(require.resolve('redoc'));
const TALLY_CSS = require.resolve('@tally/react/styles.css');

const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const MAP = 'application/json; charset=utf-8';
/** Own files may change with the code; the vendors' bundles only with a dependency update. */
const REVALIDATE = 'no-cache';
const VENDOR = 'public, max-age=3600';

/**
 * Redoc's sidebar footer shows Redocly's logo from Redocly's CDN (no option turns it off). The
 * bundle is served with that one URL pointed at an empty image of this page instead, so the portal
 * loads nothing from another origin; the "API docs by Redocly" link stays.
 */
const REDOC_LOGO_URL = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const EMPTY_IMAGE = `data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E`;
const withoutRedocCdn = (bundle: string) => bundle.replaceAll(REDOC_LOGO_URL, EMPTY_IMAGE);

interface StaticFile {
  file: string;
  type: string;
  cache: string;
  rewrite?: (text: string) => string;
}

const STATIC_FILES: Record<string, StaticFile> = {
  [`${ASSETS}/favicon.svg`]: { file: join(OWN_ASSETS, 'favicon.svg'), type: 'image/svg+xml', cache: REVALIDATE },
  [`${ASSETS}/tally.css`]: { file: TALLY_CSS, type: CSS, cache: REVALIDATE },
  [`${ASSETS}/docs.css`]: { file: join(OWN_ASSETS, 'docs.css'), type: CSS, cache: REVALIDATE },
  [`${ASSETS}/scalar-theme.css`]: { file: join(OWN_ASSETS, 'scalar-theme.css'), type: CSS, cache: REVALIDATE },
  [`${ASSETS}/theme.js`]: { file: join(OWN_ASSETS, 'theme.js'), type: JS, cache: REVALIDATE },
  [`${ASSETS}/scalar.js`]: { file: join(OWN_ASSETS, 'scalar.js'), type: JS, cache: REVALIDATE },
  [`${ASSETS}/redoc.js`]: { file: join(OWN_ASSETS, 'redoc.js'), type: JS, cache: REVALIDATE },
  [`${ASSETS}/scalar/standalone.js`]: { file: join(SCALAR_BROWSER, 'standalone.js'), type: JS, cache: VENDOR },
  [`${ASSETS}/scalar/standalone.js.map`]: { file: join(SCALAR_BROWSER, 'standalone.js.map'), type: MAP, cache: VENDOR },
  [`${ASSETS}/redoc/redoc.standalone.js`]: {
    file: join(REDOC_BUNDLES, 'redoc.standalone.js'),
    type: JS,
    cache: VENDOR,
    rewrite: withoutRedocCdn,
  },
  [`${ASSETS}/redoc/redoc.standalone.js.map`]: { file: join(REDOC_BUNDLES, 'redoc.standalone.js.map'), type: MAP, cache: VENDOR },
};

const DOCUMENT_URL = '/docs/openapi.json';

function checkApiBase(apiBase: unknown): void {
  if (typeof apiBase !== 'string') throw new TallyError('VALIDATION', 'createDocsApp: apiBase must be a string');
  if (apiBase === '' || apiBase.startsWith('/')) {
    if (apiBase.startsWith('//')) throw new TallyError('VALIDATION', 'createDocsApp: apiBase must be a path or an absolute http(s) URL');
    return;
  }
  if (!URL.canParse(apiBase) || !/^https?:$/.test(new URL(apiBase).protocol)) {
    throw new TallyError('VALIDATION', 'createDocsApp: apiBase must be a path or an absolute http(s) URL');
  }
}

/** The API's absolute base URL as seen from this request, without a trailing slash. */
function apiBaseUrl(apiBase: string, requestUrl: string): string {
  const url = new URL(apiBase === '' ? '/' : apiBase, requestUrl);
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

/** Scripts of this origin only; styles may be inline because Scalar and Redoc inject theirs at run time. */
function contentSecurityPolicy(apiOrigin: string | null): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${apiOrigin ? ` ${apiOrigin}` : ''}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

function scalarConfig(): Record<string, unknown> {
  return {
    url: DOCUMENT_URL,
    // Tally's colours come from scalar-theme.css; fonts are the system's (no font downloads).
    theme: 'none',
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    showDeveloperTools: 'never',
    // Only the document's own samples (curl, JavaScript with the typed client, Python).
    hiddenClients: true,
    persistAuth: false,
    authentication: { preferredSecurityScheme: 'bearerAuth' },
    metaData: { title: 'Tally API reference' },
  };
}

function redocConfig(palette: Palette): Record<string, unknown> {
  return {
    specUrl: DOCUMENT_URL,
    options: {
      expandResponses: '200,201',
      jsonSampleExpandLevel: 3,
      nativeScrollbars: true,
      scrollYOffset: '.docs-bar',
    },
    themes: { light: redocTheme(palette, 'light'), dark: redocTheme(palette, 'dark') },
  };
}

export function createDocsApp(options: DocsAppOptions): Hono {
  if (typeof options?.openapi !== 'function') throw new TallyError('VALIDATION', 'createDocsApp: openapi must be a function');
  checkApiBase(options.apiBase);
  const apiOrigin = /^https?:/.test(options.apiBase) ? new URL(options.apiBase).origin : null;
  const htmlHeaders = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': contentSecurityPolicy(apiOrigin),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  let palette: Promise<Palette> | null = null;
  const tallyPalette = () => {
    palette ??= readFile(TALLY_CSS, 'utf8').then(parsePalette);
    return palette;
  };

  const app = new Hono();
  const html = (body: string, status: 200 | 404 = 200) => new Response(body, { status, headers: htmlHeaders });

  app.get('/docs', () => html(scalarPage(scalarConfig())));
  app.get('/redoc', async () => html(redocPage(redocConfig(await tallyPalette()))));
  for (const path of ['/docs/', '/redoc/', '/docs/guides/']) app.get(path, (c) => c.redirect(path.slice(0, -1), 301));

  app.get(DOCUMENT_URL, async (c) => {
    const document = portalDocument(await options.openapi(), apiBaseUrl(options.apiBase, c.req.url));
    return c.json(document, 200, { 'cache-control': 'no-store' });
  });

  app.get('/docs/guides', () => html(guidesIndexPage(GUIDES)));
  app.get('/docs/guides/:slug', (c) => {
    const guide = findGuide(c.req.param('slug'));
    return guide ? html(guidePage(guide, GUIDES)) : html(notFoundPage(GUIDES, c.req.path), 404);
  });

  app.get(`${ASSETS}/*`, async (c) => {
    const entry = STATIC_FILES[c.req.path];
    if (!entry) return c.text('Not found', 404);
    const body = entry.rewrite ? entry.rewrite(await readFile(entry.file, 'utf8')) : new Uint8Array(await readFile(entry.file));
    return c.body(body, 200, {
      'content-type': entry.type,
      'cache-control': entry.cache,
      'x-content-type-options': 'nosniff',
    });
  });

  app.get('/docs/*', (c) => html(notFoundPage(GUIDES, c.req.path), 404));
  return app;
}
