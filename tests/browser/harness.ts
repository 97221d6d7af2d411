/**
 * Real Chromium against the static Storybook build: launch, serve `storybook-static/`, open a story at a
 * width and theme and wait until it has settled. Used by the browser tests in this folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { STORY_NOW } from '../../.storybook/story-clock.js';
import { CHROMIUM_FLAGS } from './chromium-flags.js';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const storybookStatic = join(repoRoot, 'storybook-static');
/** Debian's `chromium` package; override with CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type StoryWidth = 375 | 1280;
export type StoryTheme = 'light' | 'dark';

const VIEWPORT_HEIGHT: Record<StoryWidth, number> = { 375: 667, 1280: 800 };

/**
 * Chromium on a fresh temporary profile (Playwright refuses `--user-data-dir` among the args, so the
 * profile is a persistent context). `context.close()` also deletes the profile folder.
 */
export async function launchChromium(): Promise<BrowserContext> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is not at ${chromiumPath}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'tally-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: VIEWPORT_HEIGHT[1280] },
      serviceWorkers: 'allow',
    });
    // Closing also deletes the profile, awaited so that it happens before the test process exits.
    // Chromium may still be writing to it while it quits, hence the retries.
    const close = context.close.bind(context);
    context.close = async (options) => {
      await close(options);
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    };
    return context;
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  /** `http://127.0.0.1:<port>`: a secure context, so the service worker registers. */
  url: string;
  close(): Promise<void>;
}

/** A static file server over `storybook-static/` (or `dir`) on a free port of 127.0.0.1. */
export async function serveStorybook(dir = storybookStatic): Promise<StaticServer> {
  const base = resolve(dir);
  const server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    let file = resolve(base, `.${pathname}`);
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: ${pathname}`);
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      // Built assets have content hashes in their names: caching them lets Chromium reuse compiled code
      // from one story's page to the next. Everything else may change between builds.
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}

interface Session {
  context: BrowserContext;
  server: StaticServer;
}

let session: Promise<Session> | null = null;

/** One Chromium and one server per test file, started by the first `openStory`. */
function storySession(): Promise<Session> {
  session ??= (async () => {
    const server = await serveStorybook();
    try {
      const context = await launchChromium();
      // The clock belongs to the whole context (every page, now and later); set once, not per page,
      // because installing it reaches into pages that may be closing meanwhile.
      await context.clock.setFixedTime(STORY_NOW);
      return { server, context };
    } catch (error) {
      await server.close();
      throw error;
    }
  })();
  return session;
}

/** Closes the Chromium and server `openStory` started (call it in `afterAll`). */
export async function closeStories(): Promise<void> {
  if (!session) return;
  const { context, server } = await session;
  session = null;
  await context.close();
  await server.close();
}

const problems = new WeakMap<Page, string[]>();

/**
 * What went wrong in the page since it opened: uncaught exceptions, msw's errors (a Tally API request
 * no story handler answered) and the handler's 5xx log (`[tally/http]`). Empty for a healthy story.
 */
export function storyErrors(page: Page): string[] {
  return problems.get(page) ?? [];
}

export interface OpenStoryOptions {
  width: StoryWidth;
  theme: StoryTheme;
  /**
   * The story shows a loading state on purpose (the `slow` scenario): wait until a Tally API request is
   * in flight instead of waiting for the API to answer. Default: whether the story has the tag `loading`
   * (read from the rendered story, so tags set by helper functions count too).
   */
  loading?: boolean;
  /**
   * How long the story may take to render and settle. Default 45 s: the two cores are shared with the
   * rest of CI, and on a day when this machine's stories file took 615 s (229 s on a quick day) one
   * story's first render went past the earlier 20 s. A story that hangs still fails, later.
   */
  timeoutMs?: number;
}

const STORY_TIMEOUT_MS = 45_000;
const API_PATH = /\/v1\//;
const QUIET_MS = 150;

/** Waits for webfonts and two frames, so measurements and screenshots see the final layout. */
async function layoutPass(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  });
}

/**
 * Opens `iframe.html?id=<storyId>` at the width (height 667 at 375 px, 800 at 1280 px) and theme, with
 * `Date` pinned to STORY_NOW (for the whole browser context), and waits until Storybook has finished the story (render and play), every
 * Tally API request has been answered (none new for 150 ms) and nothing is `aria-busy="true"`; for a
 * loading story, until a request is in flight. Throws with Storybook's message when the story fails.
 *
 * The a11y addon's own automatic axe run is switched off (global `a11y.manual`): the tests run axe
 * themselves, and two runs in one page collide ("Axe is already running").
 */
export async function openStory(storyId: string, options: OpenStoryOptions): Promise<Page> {
  try {
    return await openStoryOnce(storyId, options);
  } catch (error) {
    // Chromium sometimes reports a module of the static build as unfetchable although the local server
    // has it (seen once in ~2,000 story loads, with the machine's two cores saturated): Storybook then
    // shows "Failed to fetch dynamically imported module". A page that cannot load its code says
    // nothing about the story, so it is opened again, once; a second failure is reported as it is.
    if (error instanceof Error && error.message.includes(DYNAMIC_IMPORT_FAILED)) return openStoryOnce(storyId, options);
    throw error;
  }
}

const DYNAMIC_IMPORT_FAILED = 'Failed to fetch dynamically imported module';

async function openStoryOnce(storyId: string, options: OpenStoryOptions): Promise<Page> {
  const { context, server } = await storySession();
  const timeout = options.timeoutMs ?? STORY_TIMEOUT_MS;
  const page = await context.newPage();
  const errors: string[] = [];
  problems.set(page, errors);
  page.on('pageerror', (error) => {
    // msw's start() asks the browser to update its worker registration, which every story page of this
    // context shares; when the previous page is closing at that moment the browser rejects the update
    // with "Not found" although the registered worker keeps serving (the page's own requests and
    // rendering are checked on their own). Seen once in ~1,600 story loads; nothing of the story's.
    if (/^Failed to update a ServiceWorker for scope .*mockServiceWorker\.js'\): Not found$/.test(error.message)) return;
    errors.push(`Uncaught: ${error.message}`);
  });
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && (text.includes('[MSW]') || text.includes('[tally/http]'))) errors.push(text);
  });
  const tracker: ApiTracker = { pending: new Set(), lastActivity: Date.now() };
  trackers.set(page, tracker);
  const settle = (request: unknown) => {
    if (tracker.pending.delete(request)) tracker.lastActivity = Date.now();
  };
  page.on('request', (request) => {
    if (!API_PATH.test(new URL(request.url()).pathname)) return;
    tracker.pending.add(request);
    tracker.lastActivity = Date.now();
  });
  page.on('requestfinished', settle);
  page.on('requestfailed', settle);

  const fail = async (message: string): Promise<never> => {
    await page.close();
    throw new Error(`Story ${storyId} (${options.theme}, ${options.width} px): ${message}`);
  };

  await page.setViewportSize({ width: options.width, height: VIEWPORT_HEIGHT[options.width] });
  const query = new URLSearchParams({ id: storyId, viewMode: 'story' });
  // Storybook reads globals as `key:value` pairs joined by `;`; URLSearchParams would escape them.
  const url = `${server.url}/iframe.html?${query}&globals=theme:${options.theme};a11y.manual:!true`;
  // The document is enough: the wait below is for Storybook's own render phase. A navigation that
  // stalls (seen once in CI on this 2-core machine, with three pages loading at once) is tried again,
  // once; what the story renders is still checked in full.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
      break;
    } catch (error) {
      if (attempt >= 2 || !(error instanceof Error && error.name === 'TimeoutError')) throw error;
    }
  }

  const rendered = await page
    .waitForFunction(
      () => {
        type Render = { phase?: string; story?: { tags?: string[] } };
        const render = (window as { __STORYBOOK_PREVIEW__?: { currentRender?: Render } }).__STORYBOOK_PREVIEW__?.currentRender;
        if (document.body.classList.contains('sb-show-errordisplay')) return { phase: 'errored', tags: [] };
        const done = render?.phase === 'finished' || render?.phase === 'errored' || render?.phase === 'aborted';
        return done ? { phase: render.phase as string, tags: render.story?.tags ?? [] } : false;
      },
      undefined,
      { timeout },
    )
    .then((handle) => handle.jsonValue() as Promise<{ phase: string; tags: string[] }>)
    .catch(() => fail(`Storybook did not finish rendering within ${timeout} ms`));
  if (rendered.phase !== 'finished') {
    const message = (await page.locator('#error-message').textContent())?.trim();
    await fail(`failed to render (${rendered.phase}): ${message || 'its play function threw; see the Interactions panel'}`);
  }
  const loading = options.loading ?? rendered.tags.includes('loading');
  loadingStories.set(page, loading);
  const unsettled = await settled(page, tracker, loading, timeout);
  if (unsettled) await fail(unsettled);
  await layoutPass(page);
  return page;
}

interface ApiTracker {
  /** Tally API requests sent and not yet answered. */
  pending: Set<unknown>;
  /** When the last one was sent or answered (Date.now()). */
  lastActivity: number;
}

const trackers = new WeakMap<Page, ApiTracker>();
/** Whether the page's story shows a loading state on purpose (decided when it opened). */
const loadingStories = new WeakMap<Page, boolean>();

/**
 * Waits until the story has settled: every Tally API request answered, none new for 150 ms and nothing
 * `aria-busy="true"` (for a loading story: until a request is in flight). Returns what did not settle
 * in time, or null.
 */
async function settled(page: Page, tracker: ApiTracker, loading: boolean, timeout: number): Promise<string | null> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (loading) {
      if (tracker.pending.size > 0) break;
    } else if (tracker.pending.size === 0 && Date.now() - tracker.lastActivity >= QUIET_MS) {
      if ((await page.locator('[aria-busy="true"]').count()) === 0) break;
    }
    if (Date.now() > deadline) {
      const busy = await page.locator('[aria-busy="true"]').count();
      return loading
        ? `a loading story, but no Tally API request was in flight within ${timeout} ms`
        : `did not settle within ${timeout} ms: ${tracker.pending.size} Tally API request(s) unanswered, ${busy} element(s) ` +
            'aria-busy="true" (a story that shows a loading state on purpose must be tagged "loading")';
    }
    await new Promise((wake) => setTimeout(wake, 25));
  }
  await layoutPass(page);
  return null;
}

/** Whether `openStory` judged the page's story a loading one (tag `loading` or the `loading` option). */
export function isLoadingStory(page: Page): boolean {
  return loadingStories.get(page) ?? false;
}

/**
 * Switches an open story to the other theme in place, as the toolbar's theme switch does: Storybook
 * updates the global and renders the story again (its loaders run again; the component keeps its state
 * and the play function does not run again), then the story must settle as in `openStory`. A page load
 * costs about eight times as much as this on the project's machine. Not for loading stories: their
 * state is the request in flight, which a second render does not repeat.
 */
export async function setStoryTheme(page: Page, theme: StoryTheme, timeoutMs = STORY_TIMEOUT_MS): Promise<void> {
  const tracker = trackers.get(page);
  if (!tracker) throw new Error('setStoryTheme needs a page from openStory');
  if (isLoadingStory(page)) throw new Error('setStoryTheme: a loading story is opened once per theme instead');
  const outcome = await page.evaluate(
    ({ theme, timeoutMs }) =>
      new Promise<string>((done) => {
        type Channel = {
          on(event: string, fn: (payload: unknown) => void): void;
          off(event: string, fn: (payload: unknown) => void): void;
          emit(event: string, payload: unknown): void;
        };
        const channel = (window as { __STORYBOOK_ADDONS_CHANNEL__?: Channel }).__STORYBOOK_ADDONS_CHANNEL__;
        if (!channel) return done('no Storybook channel in the page');
        const timer = setTimeout(() => finish(`the story did not render again within ${timeoutMs} ms`), timeoutMs);
        const onFinished = (payload: unknown) =>
          finish((payload as { status?: string }).status === 'success' ? 'ok' : 'the story errored when rendered again');
        const finish = (result: string) => {
          clearTimeout(timer);
          channel.off('storyFinished', onFinished);
          done(result);
        };
        channel.on('storyFinished', onFinished);
        channel.emit('updateGlobals', { globals: { theme } });
      }),
    { theme, timeoutMs },
  );
  if (outcome !== 'ok') throw new Error(`Switching to the ${theme} theme: ${outcome}`);
  const shown = await page.evaluate(() => document.documentElement.dataset.theme);
  if (shown !== theme) throw new Error(`Switched to the ${theme} theme, but <html> has data-theme="${shown}"`);
  const unsettled = await settled(page, tracker, false, timeoutMs);
  if (unsettled) throw new Error(`After switching to the ${theme} theme, the story ${unsettled}`);
}

/** Changes an open story's viewport width (and height) and waits for the new layout. */
export async function resizeStory(page: Page, width: StoryWidth): Promise<void> {
  await page.setViewportSize({ width, height: VIEWPORT_HEIGHT[width] });
  await layoutPass(page);
}
