import {
  CUSTOMER_EMAIL_TEMPLATES,
  type EmailTemplateData,
  type EmailTemplateId,
  emailSample,
  emailSamples,
  type RenderedEmail,
} from '@tally/core';
import { describe, expect, it } from 'vitest';
import { createEmailRenderer, EMAIL_MESSAGES, renderTallyEmail } from './index.js';
import { SAMPLE_UNSUBSCRIBE_URL, sampleContext } from './test-context.js';

/** Text as HTML writes it (React escapes these in text and attributes). */
function escaped(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll("'", '&#x27;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Both forms of one mail say it: the HTML (escaped) and the plain text. */
function expectInBoth(email: RenderedEmail, ...texts: string[]) {
  for (const text of texts) {
    expect(email.html, `HTML should contain ${JSON.stringify(text)}`).toContain(escaped(text));
    expect(email.text, `text should contain ${JSON.stringify(text)}`).toContain(text);
  }
}

async function renderSample<T extends EmailTemplateId>(template: T, data: EmailTemplateData[T] = emailSample(template), locale = 'en') {
  return renderTallyEmail(template, data, sampleContext(template, { locale }));
}

// U+00A0: Intl puts a no-break space between a German amount and its currency sign or percent sign.
const NBSP = '\u00a0';
const THIN = '\u2009';

describe('the seven templates, in English', () => {
  it('welcome: the plan and its allowance (1,000,000,000 micros = 1,000 credits)', async () => {
    const email = await renderSample('welcome');
    expect(email.subject).toBe('Welcome to Tally');
    expectInBoth(
      email,
      'Welcome to Tally',
      'Hi Ada Lovelace,',
      'you are on the Starter plan',
      'Your plan includes 1,000 credits each billing period.',
    );
    const unlimited = await renderSample('welcome', { ...emailSample('welcome'), allowanceMicros: null, customerName: null });
    expectInBoth(unlimited, 'Hi,', 'Your plan includes unlimited credits each billing period.');
  });

  it('low balance: 74,250,000 micros left of 1,000,000,000, renewing 1 Dec 2026 (UTC)', async () => {
    const email = await renderSample('low_balance');
    expect(email.subject).toBe('Your Tally credits are running low');
    expectInBoth(
      email,
      "You have 74.25 credits left of this period's 1,000 credits.",
      'Your allowance renews on December 1, 2026.',
      'Dates are given in UTC.',
    );
    // Overdrawn, exactly one credit of allowance, and no renewal: the sign, the singular, the other sentence.
    const overdrawn = await renderSample('low_balance', {
      ...emailSample('low_balance'),
      remainingMicros: -2_500_000n,
      allowanceMicros: 1_000_000n,
      renewsAt: null,
    });
    expectInBoth(
      overdrawn,
      "You have -2.50 credits left of this period's 1 credit.",
      'Your plan does not renew its credits automatically.',
    );
    expect(overdrawn.text).not.toContain('UTC');
  });

  it('low balance: amounts beyond 2^53 micros stay exact', async () => {
    const email = await renderSample('low_balance', {
      ...emailSample('low_balance'),
      remainingMicros: 9_007_199_254_740_993_125_000n,
      allowanceMicros: 90_071_992_547_409_930_000_000n,
    });
    expectInBoth(email, '9,007,199,254,740,993.13 credits', '90,071,992,547,409,930 credits');
  });

  it('monthly reset: 5,000 credits for the period 1 Nov – 1 Dec 2026', async () => {
    const email = await renderSample('monthly_reset');
    expect(email.subject).toBe('Your Tally credits have been renewed');
    expectInBoth(
      email,
      "Your Professional plan's 5,000 credits are available again.",
      'The new period runs from November 1, 2026 to December 1, 2026.',
    );
  });

  it('coupon redeemed: 25 credits expiring 1 Feb 2027, or a percentage off from basis points', async () => {
    const email = await renderSample('coupon_redeemed');
    expect(email.subject).toBe('Coupon WELCOME25 has been applied');
    expectInBoth(email, 'Coupon WELCOME25 added 25 credits to your account.', 'These credits expire on February 1, 2027.');
    const quarter = await renderSample('coupon_redeemed', {
      ...emailSample('coupon_redeemed'),
      code: 'SAVE25',
      benefit: { type: 'percent_off', percentOffBps: 2500, durationPeriods: 3 },
    });
    expectInBoth(quarter, 'Coupon SAVE25 takes 25% off your next 3 invoices.', '25% off 3 invoices');
    const eighth = await renderSample('coupon_redeemed', {
      ...emailSample('coupon_redeemed'),
      code: 'ONCE',
      benefit: { type: 'percent_off', percentOffBps: 1250, durationPeriods: 1 },
    });
    expectInBoth(eighth, 'Coupon ONCE takes 12.5% off your next invoice.', '12.5% off 1 invoice');
    const forever = await renderSample('coupon_redeemed', {
      ...emailSample('coupon_redeemed'),
      benefit: { type: 'credits', amountMicros: 1_000_000n, expiresAt: null },
    });
    expectInBoth(forever, 'added 1 credit to your account', 'These credits do not expire.');
  });

  it('tier upgraded, in effect now: $49.00 (4900 cents) and 5,000 credits', async () => {
    const email = await renderSample('tier_upgraded');
    expect(email.subject).toBe('Your Tally plan is now Professional');
    expectInBoth(
      email,
      'Welcome to Professional',
      'You upgraded from Starter to Professional on November 14, 2026.',
      'Professional includes 5,000 credits each billing period.',
      'Professional costs $49.00 per billing period.',
    );
  });

  it('tier downgraded, scheduled and effective', async () => {
    const scheduled = await renderSample('tier_downgraded');
    expect(scheduled.subject).toBe('Your Tally plan changes to Starter on December 1, 2026');
    expectInBoth(
      scheduled,
      'Your plan changes from Professional to Starter on December 1, 2026.',
      'Until then, everything in Professional stays available to you.',
      'Starter costs $19.00 per billing period.',
      'Starter includes 1,000 credits each billing period.',
    );
    const effective = await renderSample('tier_downgraded', {
      ...emailSample('tier_downgraded'),
      timing: 'now',
      effectiveAt: new Date('2026-11-14T09:30:00Z'),
      priceMinor: 4900n,
      currency: 'JPY',
      allowanceMicros: null,
    });
    expect(effective.subject).toBe('Your Tally plan is now Starter');
    expectInBoth(
      effective,
      'Your plan changed from Professional to Starter on November 14, 2026.',
      'Starter costs ¥4,900 per billing period.',
      'Starter includes unlimited credits each billing period.',
    );
    const free = await renderSample('tier_downgraded', { ...emailSample('tier_downgraded'), priceMinor: null });
    expect(free.text).not.toContain('costs');
  });

  it('payment failed: $49.00 due, attempt 2, next try 19 Nov 2026', async () => {
    const email = await renderSample('payment_failed');
    expect(email.subject).toBe('Your Tally payment of $49.00 failed');
    expectInBoth(
      email,
      'We could not charge $49.00 to your payment method.',
      'This was attempt 2.',
      'We will try again on November 19, 2026.',
    );
    const last = await renderSample('payment_failed', {
      ...emailSample('payment_failed'),
      amountDueMinor: 123_456_789n,
      attemptCount: 4,
      nextAttemptAt: null,
    });
    expectInBoth(last, 'We could not charge $1,234,567.89 to your payment method.', 'We will not try again automatically.');
  });
});

describe('the analytics report to admins', () => {
  it('weekly, English: every headline number exactly, the top customers, the attachment and the dashboard link', async () => {
    const email = await renderSample('analytics_report');
    // Intl puts thin spaces (U+2009) around the dash of a date range.
    expect(email.subject).toBe(`Tally weekly report: November 16${THIN}–${THIN}22, 2026`);
    expectInBoth(
      email,
      'Your weekly report',
      'Hi Grace Hopper,',
      `Here are Tally's numbers for November 16${THIN}–${THIN}22, 2026.`,
      // 1,249,200 cents at the end, +14,700 cents, 119 bps of the start.
      'MRR ended the period at $12,492.00 (+$147.00, +1.19%).',
      '182,430 calls charged 8,412.35 credits; 318 customers were active.',
      // Nano-USD to the cent: 8,412,350,000,000 → $8,412.35; 5,907,118,442,107 → $5,907.12; 2978 bps.
      'Revenue was $8,412.35 against $5,907.12 of provider cost: a margin of $2,505.23 (29.78%).',
      'Monthly recurring revenue',
      'Net change',
      '+$147.00 (+1.19%)',
      'Top 5 customers by credits',
      '1. cus_acme (enterprise)',
      '1,250 credits · 21,400 calls',
      // 305,125,000 micros, half up to 305.13.
      '305.13 credits · 8,004 calls',
      '412,906,118',
      'The full report is attached as a PDF.',
      "You receive this report because your address is on Tally's list of report recipients.",
      'Dates are given in UTC.',
    );
    expect(email.text).toContain('Open the dashboard https://admin.example.com/analytics');
    // Headings keep their case in the text part.
    expect(email.text).toContain('\nMonthly recurring revenue\n');
    // An admin mail: no unsubscribe link, no customer account sentence.
    expect(email.html).not.toMatch(/unsubscribe/i);
    expect(email.text).not.toMatch(/unsubscribe/i);
    expect(email.text).not.toContain('because you have a Tally account');
  });

  it('daily and monthly periods, a fall, no revenue, no customers, no link, no attachment, beyond 2^53', async () => {
    const big = 2n ** 60n + 1n;
    const daily = await renderSample('analytics_report', {
      ...emailSample('analytics_report'),
      cadence: 'daily',
      from: new Date('2026-11-25T00:00:00Z'),
      to: new Date('2026-11-26T00:00:00Z'),
      recipientName: null,
      mrr: { ...emailSample('analytics_report').mrr, atStart: 0n, atEnd: 0n, net: 0n, growthBps: null },
      calls: 1,
      customers: { signUps: 0, active: 1, total: 3 },
      creditsChargedMicros: 0n,
      revenueNanoUsd: 0n,
      costNanoUsd: 4_999_999n,
      marginNanoUsd: -4_999_999n,
      marginBps: null,
      tokens: big,
      topCustomers: [],
      dashboardUrl: null,
      attachment: null,
    });
    expect(daily.subject).toBe('Tally daily report: November 25, 2026');
    expectInBoth(
      daily,
      'Hi,',
      'MRR ended the period at $0.00 ($0.00).',
      '1 call charged 0 credits; 1 customer was active.',
      // 4,999,999 nano-USD is half a cent less a nano: rounds to $0.00 either way (half away from zero only at exactly half).
      'Revenue was $0.00 against $0.00 of provider cost: a margin of $0.00.',
      '1,152,921,504,606,846,977',
      'No customer was charged credits in this period.',
    );
    expect(daily.text).not.toContain('attached');
    expect(daily.html).not.toContain('Open the dashboard');
    const monthly = await renderSample('analytics_report', {
      ...emailSample('analytics_report'),
      cadence: 'monthly',
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      mrr: { ...emailSample('analytics_report').mrr, atStart: 10_000n, atEnd: 7_500n, net: -2_500n, growthBps: -2500 },
      attachment: 'csv',
    });
    expect(monthly.subject).toBe('Tally monthly report: October 2026');
    expectInBoth(monthly, 'MRR ended the period at $75.00 (-$25.00, -25%).', 'The full report is attached as CSV files, one per table.');
  });

  it('German: words, numbers and the month', async () => {
    const email = await renderSample('analytics_report', emailSample('analytics_report'), 'de');
    expect(email.subject).toBe('Tally-Wochenbericht: 16.–22. November 2026');
    expectInBoth(
      email,
      'Hier sind die Zahlen von Tally für die Woche 16.–22. November 2026.',
      `Der MRR lag am Ende des Zeitraums bei 12.492,00${NBSP}$ (+147,00${NBSP}$, +1,19${NBSP}%).`,
      '182.430 Aufrufe haben 8.412,35 Credits verbraucht; 318 Kunden waren aktiv.',
      'Die 5 Kunden mit den meisten Credits',
      'Den vollständigen Bericht finden Sie im Anhang als PDF.',
      'Sie erhalten diesen Bericht, weil Ihre Adresse in der Empfängerliste der Berichte von Tally steht.',
    );
    const monthly = await renderSample(
      'analytics_report',
      {
        ...emailSample('analytics_report'),
        cadence: 'monthly',
        from: new Date('2026-10-01T00:00:00Z'),
        to: new Date('2026-11-01T00:00:00Z'),
      },
      'de',
    );
    expect(monthly.subject).toBe('Tally-Monatsbericht: Oktober 2026');
  });
});

describe('the shared frame', () => {
  it('shows the brand: logo or name, colours on the button and header rule, footer address, support', async () => {
    const brand = {
      productName: 'Acme AI',
      logoUrl: 'https://cdn.acme.test/logo.png',
      primaryColor: '#0a7f5a',
      primaryTextColor: '#fff',
      footerAddress: 'Acme Inc., 5 Main Street, 10115 Berlin',
      dashboardUrl: 'https://acme.test/account/billing',
      supportEmail: 'help@acme.test',
    };
    const email = await renderTallyEmail('low_balance', emailSample('low_balance'), sampleContext('low_balance', { brand }));
    expect(email.subject).toBe('Your Acme AI credits are running low');
    expect(email.html).toContain('<img alt="Acme AI" height="40" src="https://cdn.acme.test/logo.png"');
    expect(email.html).toContain('border-top:4px solid #0a7f5a');
    expect(email.html).toMatch(/<a href="https:\/\/acme\.test\/account\/billing" style="[^"]*background-color:#0a7f5a;color:#fff/);
    expect(email.html).toContain('href="mailto:help@acme.test"');
    expectInBoth(email, 'Acme Inc., 5 Main Street, 10115 Berlin', 'The Acme AI team', 'help@acme.test', 'Add credits');
    expect(email.text).toContain('Add credits https://acme.test/account/billing');
    expect(email.text).not.toContain('mailto:');
  });

  it('leaves the button out when the brand has no dashboard, and the support line without an address', async () => {
    const email = await renderTallyEmail(
      'welcome',
      emailSample('welcome'),
      sampleContext('welcome', { brand: { dashboardUrl: null, supportEmail: null } }),
    );
    expect(email.html).not.toContain('Go to your dashboard');
    expect(email.html).not.toContain('Questions?');
    expectInBoth(email, 'Tally Labs, 1 Example Street, Springfield 12345');
  });

  it.for(CUSTOMER_EMAIL_TEMPLATES.filter((template) => template !== 'payment_failed'))(
    '%s: the footer links to its one-click unsubscribe',
    async (template) => {
      const email = await renderSample(template, emailSamples()[template]);
      const label = {
        welcome: 'Unsubscribe from welcome emails',
        low_balance: 'Unsubscribe from low-balance emails',
        monthly_reset: 'Unsubscribe from credit renewal emails',
        coupon_redeemed: 'Unsubscribe from coupon emails',
        tier_upgraded: 'Unsubscribe from plan change emails',
        tier_downgraded: 'Unsubscribe from plan change emails',
      }[template];
      expect(email.html).toContain(`href="${escaped(SAMPLE_UNSUBSCRIBE_URL)}"`);
      expect(email.html).toContain(`>${label}</a>`);
      expect(email.text).toContain(`${label} ${SAMPLE_UNSUBSCRIBE_URL}`);
      expect(email.text).not.toContain('You cannot turn these emails off.');
    },
  );

  it('payment failed: no unsubscribe link, the required reason instead', async () => {
    const email = await renderSample('payment_failed');
    expect(email.html).not.toMatch(/unsubscribe/i);
    expect(email.text).not.toMatch(/unsubscribe/i);
    expectInBoth(
      email,
      'You cannot turn these emails off. Access to your account depends on a working payment method, so a failed payment is always reported.',
    );
  });

  it('writes a complete HTML document with the language, a preview line and the subject as title', async () => {
    const email = await renderSample('low_balance');
    expect(email.html).toMatch(/^<!DOCTYPE html/);
    expect(email.html).toContain('<html dir="ltr" lang="en">');
    expect(email.html).toContain('<title>Your Tally credits are running low</title>');
    expect(email.html).toMatch(/data-skip-in-text="true">You have 74.25 credits left/);
    // The preview line is for the inbox list only: the text version starts with the mail itself.
    expect(email.text.match(/You have 74.25 credits left/g)).toHaveLength(1);
  });

  it('escapes data in HTML: a customer name cannot inject markup', async () => {
    const email = await renderSample('welcome', { ...emailSample('welcome'), customerName: '<img src=x onerror=alert(1)>' });
    expect(email.html).not.toContain('<img src=x');
    expect(email.html).toContain('Hi &lt;img src=x onerror=alert(1)&gt;,');
  });
});

describe('locales', () => {
  it('de: German words, German numbers and dates', async () => {
    const low = await renderSample('low_balance', emailSample('low_balance'), 'de');
    expect(low.subject).toBe('Ihr Tally-Guthaben wird knapp');
    expect(low.html).toContain('<html dir="ltr" lang="de">');
    expectInBoth(
      low,
      'Von den 1.000 Credits dieses Zeitraums bleiben Ihnen noch 74,25 Credits.',
      'Ihr Kontingent wird am 1. Dezember 2026 erneuert.',
      'E-Mails zu niedrigem Guthaben abbestellen',
      'Alle Daten sind in UTC angegeben.',
    );
    const payment = await renderSample('payment_failed', emailSample('payment_failed'), 'de');
    expect(payment.subject).toBe(`Ihre Tally-Zahlung über 49,00${NBSP}$ ist fehlgeschlagen`);
    expectInBoth(
      payment,
      `Wir konnten 49,00${NBSP}$ nicht von Ihrer Zahlungsmethode abbuchen.`,
      'Wir versuchen es am 19. November 2026 erneut.',
    );
    const coupon = await renderSample(
      'coupon_redeemed',
      { ...emailSample('coupon_redeemed'), benefit: { type: 'percent_off', percentOffBps: 1250, durationPeriods: 3 } },
      'de',
    );
    expectInBoth(coupon, `gewährt 12,5${NBSP}% Rabatt auf Ihre nächsten 3 Rechnungen.`);
  });

  it('a regional tag uses its language and keeps its own number format; an unknown language falls back to English', async () => {
    const austrian = await renderSample('monthly_reset', emailSample('monthly_reset'), 'de-AT');
    expect(austrian.html).toContain('lang="de-AT"');
    expectInBoth(austrian, `Die 5${NBSP}000 Credits Ihres Tarifs Professional stehen Ihnen wieder zur Verfügung.`);
    const french = await renderSample('monthly_reset', emailSample('monthly_reset'), 'fr');
    expect(french.subject).toBe('Your Tally credits have been renewed');
    expect(french.html).toContain('lang="en"');
    expectInBoth(french, "Your Professional plan's 5,000 credits are available again.");
  });

  it('custom messages reword a template, add a language, and fall back per group', async () => {
    const render = createEmailRenderer({
      messages: {
        en: { paymentFailed: { ...EMAIL_MESSAGES.en.paymentFailed, subject: ({ amount }) => `Payment problem: ${amount}` } },
        fr: { common: { ...EMAIL_MESSAGES.en.common, greeting: (name) => (name ? `Bonjour ${name},` : 'Bonjour,') } },
      },
    });
    const english = await render('payment_failed', emailSample('payment_failed'), sampleContext('payment_failed'));
    expect(english.subject).toBe('Payment problem: $49.00');
    const french = await render('payment_failed', emailSample('payment_failed'), sampleContext('payment_failed', { locale: 'fr-CA' }));
    expect(french.html).toContain('lang="fr-CA"');
    // French greeting, English sentences for the groups French does not define, French number format.
    expectInBoth(french, 'Bonjour Ada Lovelace,', `We could not charge 49,00${NBSP}$${NBSP}US to your payment method.`);
    // The built-in renderer is unchanged.
    expect((await renderSample('payment_failed')).subject).toBe('Your Tally payment of $49.00 failed');
  });
});
