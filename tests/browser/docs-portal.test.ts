/**
 * The API docs portal of the demo dashboard (examples/dashboard/src/server/docs) in real Chromium:
 * `createDocsApp` and the real handler (every route enabled) served by @hono/node-server on
 * 127.0.0.1. /docs (Scalar, in Tally's colours) and /redoc must render an operation and its code
 * samples, log no console error, and send no request anywhere but 127.0.0.1 (fonts included).
 * Screenshots: reports/docs/docs-<theme>-<width>.png, redoc-<theme>-1280.png, guide-<theme>-375.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePalette } from '../../examples/dashboard/src/server/docs/palette.ts';
import { createDocsApp } from '../../examples/dashboard/src/server/docs/routes.ts';
import { createDocsTestBackend } from '../../examples/dashboard/src/server/docs/test-backend.ts';
import { launchChromium, repoRoot, type StoryTheme, type StoryWidth } from './harness.js';

const screenshots = join(repoRoot, 'reports/docs');
const HEIGHT: Record<StoryWidth, number> = { 375: 667, 1280: 800 };
const palette = parsePalette(
  readFileSync(createRequire(join(repoRoot, 'examples/dashboard/package.json')).resolve('@tally/react/styles.css'), 'utf8'),
);

let server: ServerType;
let base: string;
let context: BrowserContext;
/** Every request the pages tried to send to another host (they are aborted). */
const offsite: string[] = [];

beforeAll(async () => {
  const backend = await createDocsTestBackend();
  const app = new Hono();
  app.route('/', createDocsApp({ openapi: backend.openapi, apiBase: '' }));
  app.all('/v1/*', (c) => backend.handler(c.req.raw));
  server = await new Promise<ServerType>((ready) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready(started));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  context = await launchChromium();
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    offsite.push(url.href);
    return route.abort();
  });
  mkdirSync(screenshots, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
});

interface Opened {
  page: Page;
  errors: string[];
}

async function open(path: string, theme: StoryTheme, width: StoryWidth): Promise<Opened> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`Uncaught: ${error.message}`));
  await page.emulateMedia({ colorScheme: theme });
  await page.setViewportSize({ width, height: HEIGHT[width] });
  await page.goto(`${base}${path}`, { waitUntil: 'load' });
  return { page, errors };
}

async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  });
}

describe('/docs: Scalar in Tally’s look', () => {
  for (const theme of ['light', 'dark'] as const) {
    for (const width of [1280, 375] as const) {
      it(`renders an operation with its curl sample, ${theme}, ${width} px`, async () => {
        const { page, errors } = await open('/docs', theme, width);
        await page.getByRole('heading', { name: 'Health check', exact: true }).waitFor({ timeout: 30_000 });
        await page.getByText(`curl '${base}/v1/health'`).first().waitFor({ timeout: 30_000 });
        await settle(page);

        const look = await page.evaluate(() => {
          const app = document.querySelector('.scalar-app') as HTMLElement;
          const style = getComputedStyle(app);
          return {
            accent: style.getPropertyValue('--scalar-color-accent').trim(),
            background: getComputedStyle(document.body).backgroundColor,
            darkMode: document.body.classList.contains('dark-mode'),
            font: style.getPropertyValue('--scalar-font').trim(),
            sideways: document.documentElement.scrollWidth - window.innerWidth,
          };
        });
        expect(look.darkMode).toBe(theme === 'dark');
        // Scalar's own colours are resolved through Tally's variables.
        const accent = await page.evaluate(() => {
          const probe = document.createElement('span');
          probe.style.color = 'var(--scalar-color-accent)';
          document.querySelector('.scalar-app')?.append(probe);
          const color = getComputedStyle(probe).color;
          probe.remove();
          return color;
        });
        expect(accent).toBe(hexToRgb(palette[theme].accent));
        expect(look.accent).toBe(palette[theme].accent);
        expect(look.font).toBe(palette.font);
        expect(look.background).toBe(hexToRgb(palette[theme].bg));
        expect(look.sideways).toBeLessThanOrEqual(0);

        await page.getByRole('heading', { name: 'Health check', exact: true }).scrollIntoViewIfNeeded();
        await settle(page);
        await page.screenshot({ path: join(screenshots, `docs-${theme}-${width}.png`) });
        expect(errors).toEqual([]);
        expect(offsite).toEqual([]);
        await page.close();
      });
    }
  }

  it('switches the sample to JavaScript and Python, and Test Request calls the API of this origin', async () => {
    const { page, errors } = await open('/docs', 'light', 1280);
    const heading = page.getByRole('heading', { name: 'Health check', exact: true });
    await heading.waitFor({ timeout: 30_000 });
    await heading.scrollIntoViewIfNeeded();
    const picker = page.getByRole('button', { name: 'Change code sample language: curl' }).first();
    await picker.click();
    await page.getByRole('option', { name: 'JavaScript' }).first().click();
    await page.getByText(`await fetch('${base}/v1/health')`).first().waitFor();
    await page.getByRole('button', { name: 'Change code sample language: JavaScript' }).first().click();
    await page.getByRole('option', { name: 'Python' }).first().click();
    await page.getByText('import requests').first().waitFor();

    const answered = page.waitForResponse((response) => response.url() === `${base}/v1/health`);
    await page.getByRole('button', { name: 'Test Request' }).first().click();
    await page.getByRole('button', { name: /^Send/ }).first().click();
    expect((await answered).status()).toBe(200);
    await page.getByText('200 OK').first().waitFor();
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
    await page.close();
  });

  it('links to the guides from the bar, and a guide renders', async () => {
    const { page, errors } = await open('/docs', 'light', 1280);
    await page.getByRole('link', { name: 'Guides', exact: true }).click();
    await page.waitForURL(`${base}/docs/guides`);
    await page
      .getByRole('link', { name: /^Webhooks/ })
      .first()
      .click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await settle(page);
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
    await page.close();
  });
});

describe('/redoc', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`renders an operation with its curl, JavaScript and Python samples, ${theme}`, async () => {
      const { page, errors } = await open('/redoc', theme, 1280);
      // Redoc's headings also carry their anchor's label ("tag/public/operation/getHealth").
      await page.getByRole('heading', { name: /Health check$/ }).waitFor({ timeout: 30_000 });
      await page.getByText(`curl '${base}/v1/health'`).first().waitFor({ timeout: 30_000 });
      const tabs = page.getByRole('tab', { name: 'JavaScript', exact: true });
      await tabs.first().click();
      await page.getByText(`await fetch('${base}/v1/health')`).first().waitFor();
      await page.getByRole('tab', { name: 'Python', exact: true }).first().click();
      await page.getByText('import requests').first().waitFor();
      await settle(page);
      await page.screenshot({ path: join(screenshots, `redoc-${theme}-1280.png`) });
      expect(errors).toEqual([]);
      expect(offsite).toEqual([]);
      await page.close();
    });
  }
});

describe('a guide at 375 px', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`fits the width, ${theme}`, async () => {
      const { page, errors } = await open('/docs/guides/getting-started', theme, 375);
      await page.getByRole('heading', { level: 1, name: 'Getting started' }).waitFor();
      await settle(page);
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(sideways).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(screenshots, `guide-${theme}-375.png`) });
      expect(errors).toEqual([]);
      expect(offsite).toEqual([]);
      await page.close();
    });
  }
});

function hexToRgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}
