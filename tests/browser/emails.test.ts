/**
 * The email templates in real Chromium, as a webmail client shows them: each mail's HTML at 600 px (the
 * card's full width) and 375 px (a phone). At both widths nothing may scroll sideways and the call to
 * action must be at least 44 px tall. Full-page screenshots go to reports/emails/<mail>-<width>.png
 * (kept as a CI artifact) for a person to look at.
 *
 * Chromium is a stand-in for the clients' engines: Apple Mail and the Gmail apps render with
 * WebKit/Blink, and what the others support is checked against caniemail's data in
 * packages/react/src/emails/caniemail.test.tsx.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type EmailTemplateData, type EmailTemplateId, emailSample, SAMPLE_EMAIL_BRAND } from '@tally/core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { renderTallyEmail } from '../../packages/react/src/emails/index.js';
import { sampleContext } from '../../packages/react/src/emails/test-context.js';
import { MIN_TARGET_PX } from './checks.js';
import { launchChromium, repoRoot } from './harness.js';

const screenshots = join(repoRoot, 'reports/emails');
const WIDTHS = [600, 375] as const;

/** A logo served in place of the brand's URL (Chromium is kept off the network). */
const LOGO_URL = 'https://cdn.example.com/tally-logo.svg';
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40"><rect width="40" height="40" rx="8" fill="#4f46e5"/>' +
  '<path d="M12 13h16v4h-6v12h-4V17h-6z" fill="#fff"/><text x="48" y="27" font-family="Arial, sans-serif" font-size="18" font-weight="700" fill="#18181b">Tally</text></svg>';

interface Case {
  /** The screenshot's name: the template id, with the variant after a dash. */
  name: string;
  template: EmailTemplateId;
  data: EmailTemplateData[EmailTemplateId];
  locale?: string;
  logo?: boolean;
}

const CASES: Case[] = [
  { name: 'welcome', template: 'welcome', data: emailSample('welcome') },
  { name: 'low_balance', template: 'low_balance', data: emailSample('low_balance') },
  { name: 'monthly_reset', template: 'monthly_reset', data: emailSample('monthly_reset') },
  { name: 'coupon_redeemed', template: 'coupon_redeemed', data: emailSample('coupon_redeemed') },
  { name: 'tier_upgraded', template: 'tier_upgraded', data: emailSample('tier_upgraded') },
  { name: 'tier_downgraded', template: 'tier_downgraded', data: emailSample('tier_downgraded') },
  {
    name: 'tier_downgraded-effective',
    template: 'tier_downgraded',
    data: { ...emailSample('tier_downgraded'), timing: 'now', effectiveAt: new Date('2026-11-14T09:30:00Z') },
  },
  { name: 'payment_failed', template: 'payment_failed', data: emailSample('payment_failed') },
  // German words are longer: the layout must hold them at 375 px too.
  { name: 'payment_failed-de', template: 'payment_failed', data: emailSample('payment_failed'), locale: 'de' },
  { name: 'welcome-logo', template: 'welcome', data: emailSample('welcome'), logo: true },
  { name: 'analytics_report', template: 'analytics_report', data: emailSample('analytics_report') },
  { name: 'analytics_report-de', template: 'analytics_report', data: emailSample('analytics_report'), locale: 'de' },
];

describe('email templates in Chromium', { timeout: 120_000 }, () => {
  let context: BrowserContext;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    context = await launchChromium();
    // Nothing leaves the machine: the logo is answered here, anything else is refused.
    await context.route('**/*', (route) =>
      route.request().url() === LOGO_URL ? route.fulfill({ contentType: 'image/svg+xml', body: LOGO_SVG }) : route.abort(),
    );
  });

  afterAll(async () => {
    await context?.close();
  });

  it.for(CASES)('$name: fits 600 and 375 px, with a call to action of at least 44 px', async (mail, { expect }) => {
    const renderContext = sampleContext(mail.template, { locale: mail.locale, brand: mail.logo ? { logoUrl: LOGO_URL } : {} });
    const { html } = await renderTallyEmail(mail.template, mail.data as never, renderContext);
    const page = await context.newPage();
    try {
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 800 });
        await page.setContent(html, { waitUntil: 'load' });
        await page.screenshot({ path: join(screenshots, `${mail.name}-${width}.png`), fullPage: true, animations: 'disabled' });
        const layout = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
        expect.soft(layout.scrollWidth, `${mail.name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(width);
        expect.soft(layout.innerWidth).toBe(width);

        // The admin report links to its own dashboard; customer mails to the brand's.
        const href = mail.template === 'analytics_report' ? emailSample('analytics_report').dashboardUrl : SAMPLE_EMAIL_BRAND.dashboardUrl;
        const button = page.locator(`a[href="${href}"]`);
        expect.soft(await button.count(), `${mail.name} has one call to action`).toBe(1);
        const box = await button.boundingBox();
        expect.soft(box?.height ?? 0, `${mail.name}: call to action height at ${width} px`).toBeGreaterThanOrEqual(MIN_TARGET_PX);
        expect.soft((box?.x ?? 0) + (box?.width ?? 0), `${mail.name}: call to action inside the viewport`).toBeLessThanOrEqual(width);

        if (mail.logo) {
          const logo = await page
            .locator(`img[src="${LOGO_URL}"]`)
            .evaluate((img: HTMLImageElement) => ({ loaded: img.complete && img.naturalWidth > 0, height: img.height }));
          expect.soft(logo).toEqual({ loaded: true, height: 40 });
        }
      }
    } finally {
      await page.close();
    }
  });
});
