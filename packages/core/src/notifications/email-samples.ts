/**
 * Sample data for every template: what the admin preview, Storybook and the email screenshots show.
 * Fixed values (no clock), so a preview looks the same every time it is rendered.
 */
import type { EmailBrand, EmailTemplateData, EmailTemplateId } from './email.js';

/** The brand the previews use until an app passes its own. */
export const SAMPLE_EMAIL_BRAND: Readonly<EmailBrand> = Object.freeze({
  productName: 'Tally',
  logoUrl: null,
  primaryColor: '#4f46e5',
  primaryTextColor: '#ffffff',
  footerAddress: 'Tally Labs, 1 Example Street, Springfield 12345',
  dashboardUrl: 'https://app.example.com/billing',
  supportEmail: 'support@example.com',
});

const customer = { customerId: 'cus_sample', customerName: 'Ada Lovelace' };

/** A fresh copy of every template's sample data (callers may change it). */
export function emailSamples(): EmailTemplateData {
  return {
    welcome: { ...customer, tierName: 'Starter', allowanceMicros: 1_000_000_000n },
    low_balance: {
      ...customer,
      remainingMicros: 74_250_000n,
      allowanceMicros: 1_000_000_000n,
      renewsAt: new Date('2026-12-01T00:00:00Z'),
    },
    monthly_reset: {
      ...customer,
      tierName: 'Professional',
      allowanceMicros: 5_000_000_000n,
      periodStart: new Date('2026-11-01T00:00:00Z'),
      periodEnd: new Date('2026-12-01T00:00:00Z'),
    },
    coupon_redeemed: {
      ...customer,
      code: 'WELCOME25',
      benefit: { type: 'credits', amountMicros: 25_000_000n, expiresAt: new Date('2027-02-01T00:00:00Z') },
    },
    tier_upgraded: {
      ...customer,
      fromTierName: 'Starter',
      toTierName: 'Professional',
      timing: 'now',
      effectiveAt: new Date('2026-11-14T09:30:00Z'),
      priceMinor: 4900n,
      currency: 'USD',
      allowanceMicros: 5_000_000_000n,
    },
    tier_downgraded: {
      ...customer,
      fromTierName: 'Professional',
      toTierName: 'Starter',
      timing: 'scheduled',
      effectiveAt: new Date('2026-12-01T00:00:00Z'),
      priceMinor: 1900n,
      currency: 'USD',
      allowanceMicros: 1_000_000_000n,
    },
    payment_failed: {
      ...customer,
      amountDueMinor: 4900n,
      currency: 'USD',
      attemptCount: 2,
      nextAttemptAt: new Date('2026-11-19T09:30:00Z'),
    },
  };
}

/** One template's sample data. */
export function emailSample<T extends EmailTemplateId>(template: T): EmailTemplateData[T] {
  return emailSamples()[template];
}
