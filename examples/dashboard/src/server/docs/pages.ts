/**
 * The portal's HTML pages. No inline scripts: every script is a file of this origin, and settings
 * travel as JSON in a non-executable <script type="application/json">, so the pages run under a
 * Content-Security-Policy that allows this origin's scripts only.
 */
import type { Guide } from './guides.ts';
import { escapeHtml } from './markdown.ts';

export const ASSETS = '/docs/assets';

type Section = 'reference' | 'guides' | 'redoc';

/** JSON that is safe inside <script>: `<` can't end the element. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function bar(current: Section): string {
  const link = (section: Section, href: string, label: string) =>
    `<a href="${href}"${section === current ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<header class="docs-bar">
<a class="docs-bar__brand" href="/docs" aria-label="Tally API reference"><span class="docs-bar__mark" aria-hidden="true">T</span><span class="docs-bar__name" aria-hidden="true">Tally API</span></a>
<nav aria-label="Documentation">${link('reference', '/docs', 'Reference')}${link('guides', '/docs/guides', 'Guides')}${link('redoc', '/redoc', 'Redoc')}</nav>
</header>`;
}

interface PageParts {
  title: string;
  description: string;
  section: Section;
  stylesheets?: string[];
  body: string;
  bodyClass?: string;
  /** JSON for the page's script, as `#docs-config`. */
  config?: unknown;
  scripts?: string[];
}

function page(parts: PageParts): string {
  const styles = [`${ASSETS}/tally.css`, `${ASSETS}/docs.css`, ...(parts.stylesheets ?? [])];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="description" content="${escapeHtml(parts.description)}">
<title>${escapeHtml(parts.title)}</title>
<link rel="icon" href="${ASSETS}/favicon.svg" type="image/svg+xml">
${styles.map((href) => `<link rel="stylesheet" href="${href}">`).join('\n')}
<script src="${ASSETS}/theme.js"></script>
</head>
<body${parts.bodyClass ? ` class="${parts.bodyClass}"` : ''}>
${bar(parts.section)}
${parts.body}
${parts.config === undefined ? '' : `<script type="application/json" id="docs-config">${jsonForScript(parts.config)}</script>`}
${(parts.scripts ?? []).map((src) => `<script src="${src}"></script>`).join('\n')}
</body>
</html>`;
}

/** Scalar's interactive reference. */
export function scalarPage(config: Record<string, unknown>): string {
  return page({
    title: 'Tally API reference',
    description: 'The Tally HTTP API: every route with its parameters, examples and code samples in curl, JavaScript and Python.',
    section: 'reference',
    stylesheets: [`${ASSETS}/scalar-theme.css`],
    body: '<main id="tally-reference"></main>',
    config,
    scripts: [`${ASSETS}/scalar/standalone.js`, `${ASSETS}/scalar.js`],
  });
}

export function redocPage(config: Record<string, unknown>): string {
  return page({
    title: 'Tally API reference (Redoc)',
    description: 'The Tally HTTP API rendered by Redoc.',
    section: 'redoc',
    body: '<main id="redoc"></main>',
    bodyClass: 'redoc-page',
    config,
    scripts: [`${ASSETS}/redoc/redoc.standalone.js`, `${ASSETS}/redoc.js`],
  });
}

function guideNav(guides: readonly Guide[], current: string | null): string {
  const items = guides
    .map(
      (guide) =>
        `<li><a href="/docs/guides/${guide.slug}"${guide.slug === current ? ' aria-current="page"' : ''}>${escapeHtml(guide.title)}</a></li>`,
    )
    .join('');
  return `<nav class="guide-nav" aria-label="Guides"><h2>Guides</h2><ul>${items}</ul><h2>Reference</h2><ul><li><a href="/docs">Interactive (Scalar)</a></li><li><a href="/redoc">Redoc</a></li><li><a href="/docs/openapi.json">OpenAPI document</a></li></ul></nav>`;
}

export function guidePage(guide: Guide, guides: readonly Guide[]): string {
  return page({
    title: `${guide.title} · Tally API`,
    description: guide.summary,
    section: 'guides',
    body: `<div class="guide-layout">${guideNav(guides, guide.slug)}<main class="guide">${guide.html}</main></div>`,
  });
}

export function guidesIndexPage(guides: readonly Guide[]): string {
  const cards = guides
    .map(
      (guide) =>
        `<li><a href="/docs/guides/${guide.slug}"><strong>${escapeHtml(guide.title)}</strong>${escapeHtml(guide.summary)}</a></li>`,
    )
    .join('');
  return page({
    title: 'Guides · Tally API',
    description: 'Guides to the Tally HTTP API: getting started, authentication and webhooks.',
    section: 'guides',
    body: `<div class="guide-layout">${guideNav(guides, null)}<main class="guide"><h1>Guides</h1><p>Start here, then use the <a href="/docs">API reference</a> for the details of each route.</p><ul class="guide-cards">${cards}</ul></main></div>`,
  });
}

export function notFoundPage(guides: readonly Guide[], path: string): string {
  return page({
    title: 'Not found · Tally API',
    description: 'This page does not exist.',
    section: 'guides',
    body: `<div class="guide-layout">${guideNav(guides, null)}<main class="guide"><h1>Not found</h1><p>There is no page at <code>${escapeHtml(path)}</code>. The guides are listed on the left.</p></main></div>`,
  });
}
