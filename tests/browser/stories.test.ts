/**
 * Every story of the built Storybook, in both themes at 375 and 1280 px, in real Chromium: axe finds no
 * violations; at 375 px nothing scrolls sideways and every visible interactive target is at least
 * 44 × 44 px. A screenshot of each goes to reports/screenshots/ (kept as a CI artifact). The admin
 * analytics stories also have their charts drawn at their card's size at both widths, show data
 * unless their name says otherwise, and hold at 320 px (screenshots in reports/admin/).
 *
 * A story is opened once, in the light theme, and switched to the dark one in place (see
 * `setStoryTheme`); a story that shows a loading state on purpose is opened once per theme.
 *
 * Needs `pnpm build:storybook` first. Without storybook-static/index.json the tests are skipped, unless
 * CI is set: then they fail, because CI must run them.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, type ExpectStatic, it } from 'vitest';
import { axeViolations, chartProblems, expectLayout, formatViolations } from './checks.js';
import {
  closeStories,
  isLoadingStory,
  openStory,
  repoRoot,
  resizeStory,
  type StoryTheme,
  type StoryWidth,
  setStoryTheme,
  storybookStatic,
  storyErrors,
} from './harness.js';

interface IndexEntry {
  id: string;
  title: string;
  name: string;
  type: 'story' | 'docs';
  tags?: string[];
}

const indexFile = join(storybookStatic, 'index.json');
const screenshots = join(repoRoot, 'reports/screenshots');
const adminScreenshots = join(repoRoot, 'reports/admin');

/** An admin analytics story whose name promises no data (empty, loading, failing) shows none; every other one shows a chart or a table. */
const dataless = /^(Empty|Loading|Server Error)$/;

const stories = existsSync(indexFile)
  ? Object.values((JSON.parse(readFileSync(indexFile, 'utf8')) as { entries: Record<string, IndexEntry> }).entries).filter(
      (entry) => entry.type === 'story',
    )
  : null;

const themes: StoryTheme[] = ['light', 'dark'];
const widths: StoryWidth[] = [375, 1280];

/** Pages open at once: Chromium renders them in parallel while the test waits on another. */
const concurrency = Math.max(1, Number(process.env.TALLY_BROWSER_CONCURRENCY ?? 3));

/** Runs at most `limit` of the given tasks at a time, the rest in order of arrival. */
function limiter(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((start) => waiting.push(start));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
const withPage = limiter(concurrency);

// Skipped only on a developer machine without `pnpm build:storybook` (there is nothing to open); under CI a
// missing build fails instead, so the browser checks can never be skipped where it counts.
if (stories === null && !process.env.CI) {
  describe.skip('Storybook in Chromium — skipped: storybook-static/index.json is missing (run `pnpm build:storybook` first)', () => {
    it('runs every story', () => {});
  });
} else if (stories === null) {
  describe('Storybook in Chromium', () => {
    it('has a static build to test', () => {
      throw new Error('storybook-static/index.json is missing: CI must run `pnpm build:storybook` before the tests');
    });
  });
} else {
  // Each test opens a page in real Chromium; two cores are shared with the rest of CI.
  describe.concurrent('Storybook in Chromium', { timeout: 120_000 }, () => {
    afterAll(closeStories);

    it('has stories to test', ({ expect }) => {
      expect(stories.length).toBeGreaterThan(0);
    });

    mkdirSync(screenshots, { recursive: true });
    mkdirSync(adminScreenshots, { recursive: true });

    /** Every check of one story in one theme at one width; screenshots as reports/…/<id>-<theme>-<width>.png. */
    async function checkAt(page: Page, story: IndexEntry, theme: StoryTheme, width: StoryWidth | 320, expect: ExpectStatic) {
      const where = `${story.id} (${theme}, ${width} px)`;
      const admin = story.title.startsWith('Admin/Analytics/');
      if (width === 320) {
        // The narrowest phone the admin widgets promise: layout, targets and charts at 320 px.
        await page.setViewportSize({ width: 320, height: 640 });
        await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      } else {
        await resizeStory(page, width);
      }
      await page.screenshot({
        path: join(width === 320 ? adminScreenshots : screenshots, `${story.id}-${theme}-${width}.png`),
        fullPage: true,
        animations: 'disabled',
      });
      if (width !== 320) {
        const violations = await axeViolations(page);
        expect.soft(violations, `axe found violations in ${where}:\n${formatViolations(violations)}`).toEqual([]);
      }
      if (admin) {
        // Charts drawn at their card's size (no 0-sized or overflowing SVG).
        expect.soft(await chartProblems(page), `${where}: charts`).toEqual([]);
        if (width === 375 && !dataless.test(story.name)) {
          const shown = await page.locator('.tally-admin-chart, .tally-admin-scroll').count();
          expect.soft(shown, `${where} shows no chart or table`).toBeGreaterThan(0);
        }
      }
      if (width !== 1280) await expectLayout(expect, page, where);
    }

    /** The widths a story is checked at in each theme, in an order that needs one resize per step. */
    const widthsOf = (story: IndexEntry, theme: StoryTheme): Array<StoryWidth | 320> => {
      const narrow: Array<StoryWidth | 320> = story.title.startsWith('Admin/Analytics/') ? [320] : [];
      // Light ends where dark starts (1280 px, or 320 px for an admin widget), saving a resize.
      return theme === 'light' ? [...widths, ...narrow] : narrow.length > 0 ? [...narrow, ...widths] : [...widths].reverse();
    };

    // One page per story, opened at 375 px in the light theme, widened to 1280 px, then switched to the
    // dark theme in place (what the toolbar's switch does; a page load costs several times as much) and
    // narrowed again. A story that shows a loading state on purpose is opened once per theme instead: its
    // state is the request in flight, which a second render does not repeat.
    describe.each(stories)('$title › $name ($id)', (story) => {
      it('light and dark, 375 and 1280 px', ({ expect }) =>
        withPage(async () => {
          // A story tagged `loading` is judged while its requests are in flight (openStory reads the tag).
          let page = await openStory(story.id, { width: widths[0] as StoryWidth, theme: themes[0] as StoryTheme });
          try {
            for (const theme of themes) {
              if (theme !== themes[0]) {
                if (isLoadingStory(page)) {
                  expect.soft(storyErrors(page), `${story.id} (${themes[0]}) logged errors`).toEqual([]);
                  await page.close();
                  page = await openStory(story.id, { width: widths[0] as StoryWidth, theme });
                } else {
                  await setStoryTheme(page, theme);
                }
              }
              for (const width of widthsOf(story, theme)) await checkAt(page, story, theme, width, expect);
            }
            expect.soft(storyErrors(page), `${story.id} logged errors`).toEqual([]);
          } finally {
            await page.close();
          }
        }));
    });
  });
}
