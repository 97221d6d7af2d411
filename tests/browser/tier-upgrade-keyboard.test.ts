/**
 * TierUpgradeModal by keyboard alone, in real Chromium against the built Storybook: open it from its
 * trigger, pick a tier with the arrow keys, read the proration lines (they must be exactly the API's
 * preview for the scenario), confirm, close with Escape, and find focus back on the trigger.
 *
 * Needs `pnpm build:storybook` first; skipped without it unless CI is set (then it fails).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { WireTierChangePreview } from '../../packages/core/src/http/wire.js';
import { closeStories, openStory, type StoryTheme, type StoryWidth, storybookStatic, storyErrors } from './harness.js';

const STORY = 'widgets-tierupgrademodal--default';
const built = existsSync(join(storybookStatic, 'index.json'));

/** What the focused element is, in words a failure message can show. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: null, role: null, name: null, value: null, checked: null, text: null };
    const input = el as HTMLInputElement;
    return {
      tag: el.tagName.toLowerCase(),
      role: el.getAttribute('role'),
      name: el.getAttribute('aria-label'),
      value: el.tagName === 'INPUT' ? input.value : null,
      checked: el.tagName === 'INPUT' ? input.checked : null,
      text: el.textContent?.trim() ?? null,
    };
  });
}

/** The preview as the API gives it, fetched from inside the page (msw answers with the scenario's real handler). */
function apiPreview(page: Page, tier: string): Promise<WireTierChangePreview> {
  return page.evaluate(async (to) => {
    const response = await fetch('/v1/subscription/preview', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer cus_story',
        'x-tally-story-scenario': 'healthy',
        'idempotency-key': 'keyboard-test-preview',
      },
      body: JSON.stringify({ tier: to }),
    });
    if (!response.ok) throw new Error(`preview answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as WireTierChangePreview;
  }, tier);
}

async function keyboardFlow(width: StoryWidth, theme: StoryTheme) {
  const page = await openStory(STORY, { width, theme });
  try {
    const trigger = page.getByRole('button', { name: 'Change plan' });
    await trigger.focus();

    // Open.
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Change your plan' });
    await dialog.waitFor();
    expect(await focused(page)).toMatchObject({ tag: 'input', value: 'trial' });

    // Pick: Starter is the current tier (disabled), so one arrow press lands on Professional.
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toMatchObject({ tag: 'input', value: 'professional', checked: true });

    // Read the proration lines: exactly the API's preview, line by line.
    const lines = dialog.getByRole('list', { name: 'Proration lines' });
    await lines.waitFor();
    const shown = await lines.locator('li').evaluateAll((items) =>
      items.map((li) => ({
        description: li.querySelector('.tally-proration-line__description')?.textContent ?? '',
        amountCents: li.querySelector('data')?.getAttribute('value') ?? '',
      })),
    );
    const preview = await apiPreview(page, 'professional');
    expect(preview.lines.length).toBeGreaterThan(0);
    expect(shown).toEqual(preview.lines.map(({ description, amountCents }) => ({ description, amountCents })));
    const due = await dialog.locator('.tally-totals__row', { hasText: 'Due now' }).locator('data').getAttribute('value');
    expect(due).toBe(preview.amountDueCents);
    const granted = await dialog.locator('.tally-totals__row', { hasText: 'Credits granted now' }).locator('data').getAttribute('value');
    expect(granted).toBe(preview.creditsGrantedMicros);

    // Confirm: Tab past Cancel to the Confirm button, which names the amount due.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Cancel' });
    await page.keyboard.press('Tab');
    const confirm = await focused(page);
    expect(confirm.tag).toBe('button');
    expect(confirm.text).toMatch(/^Upgrade/);
    await page.keyboard.press('Enter');

    // The outcome takes focus, so it is read out where the keyboard now is.
    const outcome = dialog.locator('.tally-tier-upgrade__result');
    await outcome.getByText(/Professional|checkout|invoice/).waitFor();
    expect(await outcome.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await outcome.getAttribute('role')).toBe('status');
    const navigations = await page.evaluate(() => window.tallyNavigations ?? []);
    const link = outcome.getByRole('link');
    if ((await link.count()) > 0) expect(navigations).toContain(await link.getAttribute('href'));

    // Escape closes, and focus returns to the trigger.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The dialog's DOM goes in React's commit; Radix's focus scope gives focus back in a task it schedules
    // as it unmounts. On a loaded machine that task can come after the detach is seen (CI saw the trigger
    // not yet focused once), so this waits a moment for it instead of reading it at once.
    await expect.poll(() => trigger.evaluate((el) => el === document.activeElement), { timeout: 2_000 }).toBe(true);
    expect(storyErrors(page)).toEqual([]);
  } finally {
    await page.close();
  }
}

declare global {
  interface Window {
    tallyNavigations?: string[];
  }
}

// Skipped only on a developer machine without `pnpm build:storybook` (there is nothing to open); under CI a
// missing build fails instead, so the browser checks can never be skipped where it counts.
if (!built && !process.env.CI) {
  describe.skip('TierUpgradeModal keyboard flow — skipped: storybook-static/index.json is missing (run `pnpm build:storybook` first)', () => {
    it('needs the Storybook build', () => {});
  });
} else {
  describe('TierUpgradeModal keyboard flow in Chromium', { timeout: 120_000 }, () => {
    afterAll(closeStories);

    it('opens, picks a tier, shows the API’s proration, confirms, closes on Escape and returns focus (1280 px, light)', async () => {
      if (!built) throw new Error('storybook-static/index.json is missing: CI must run `pnpm build:storybook` before the tests');
      await keyboardFlow(1280, 'light');
    });

    it('does the same at 375 px in the dark theme', async () => {
      if (!built) throw new Error('storybook-static/index.json is missing: CI must run `pnpm build:storybook` before the tests');
      await keyboardFlow(375, 'dark');
    });
  });
}
