/**
 * The browser-test harness itself: the static server serves the build and nothing outside it, and the
 * page checks catch what they claim to (an axe violation, sideways scrolling, small targets), so a
 * green stories run means something.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, formatViolations, measureLayout } from './checks.js';
import { chromiumPath, launchChromium, type StaticServer, serveStorybook } from './harness.js';

describe('serveStorybook', () => {
  let dir: string;
  let server: StaticServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-static-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    await writeFile(join(dir, 'assets', 'app.js'), 'export {};');
    await writeFile(join(dir, 'index.json'), '{"v":5}');
    server = await serveStorybook(dir);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves files with their content type, and index.html for a folder', async () => {
    const script = await fetch(`${server.url}/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toBe('export {};');
    expect((await fetch(`${server.url}/index.json`)).headers.get('content-type')).toMatch(/^application\/json/);
    const root = await fetch(`${server.url}/`);
    expect(await root.text()).toContain('<title>x</title>');
  });

  it('answers 404 for a missing file and never serves outside the folder', async () => {
    expect((await fetch(`${server.url}/nope.js`)).status).toBe(404);
    // Dot segments are resolved by URL parsing and stay inside the folder; encoded slashes would not.
    expect((await fetch(`${server.url}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/..%2f..%2f..%2fetc%2fpasswd`)).status).toBe(403);
  });
});

const canRun = existsSync(chromiumPath) || !!process.env.CI;

describe.skipIf(!canRun)('page checks (Chromium)', { timeout: 60_000 }, () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await launchChromium();
    page = await context.newPage();
    await page.setViewportSize({ width: 375, height: 667 });
  });
  afterAll(() => context?.close());

  it('pass a page that meets the rules', async () => {
    await page.setContent(`<!doctype html><html lang="en"><title>ok</title><body>
      <div id="storybook-root">
        <button type="button" style="min-width:44px;min-height:44px">Buy</button>
        <label style="display:inline-flex;min-height:44px;align-items:center">
          <input type="checkbox"> Auto-recharge
        </label>
      </div></body></html>`);
    const layout = await measureLayout(page);
    expect(await axeViolations(page)).toEqual([]);
    expect(layout.smallTargets).toEqual([]);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
  });

  it('report an axe violation, sideways scrolling and a small target, with where they are', async () => {
    await page.setContent(`<!doctype html><html lang="en"><title>bad</title><body style="margin:0">
      <div id="storybook-root">
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
        <div style="width:600px">wide</div>
        <button type="button" class="tiny" style="width:30px;height:20px;padding:0">x</button>
      </div>
      <div role="dialog" aria-label="Portalled"><a href="#next" style="font-size:12px">next</a></div>
      <div class="sb-errordisplay"><button type="button" style="width:5px;height:5px"></button></div>
      </body></html>`);
    const violations = await axeViolations(page);
    expect(violations.map((v) => v.id)).toContain('image-alt');
    expect(formatViolations(violations)).toContain('image-alt');

    const layout = await measureLayout(page);
    expect(layout.scrollWidth).toBeGreaterThan(layout.innerWidth);
    expect(layout.overflowing.join('\n')).toContain('"wide"');
    // The portalled link counts, Storybook's own placeholder does not.
    expect(layout.smallTargets).toEqual([
      expect.stringMatching(/^button\.tiny "x" \(30×20 at /),
      expect.stringMatching(/^a "next" \(\d+×\d+ at /),
    ]);
  });
});
