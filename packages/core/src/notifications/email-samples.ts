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
    // A week that adds up: net = 147 + 60 + 19 − 30 − 49 = $147.00 = $12,492.00 − $12,345.00, 119 bps of
    // the start; margin $2,505.23… = revenue − cost, 2978 bps of the revenue (1 credit = 1 USD here).
    analytics_report: {
      reportId: 'weekly-ops',
      cadence: 'weekly',
      from: new Date('2026-11-16T00:00:00Z'),
      to: new Date('2026-11-23T00:00:00Z'),
      recipientName: 'Grace Hopper',
      currency: 'USD',
      mrr: {
        atStart: 1_234_500n,
        atEnd: 1_249_200n,
        net: 14_700n,
        new: 14_700n,
        expansion: 6_000n,
        reactivation: 1_900n,
        contraction: 3_000n,
        churn: 4_900n,
        growthBps: 119,
      },
      customers: { signUps: 42, active: 318, total: 1_204 },
      calls: 182_430,
      tokens: 412_906_118n,
      creditsChargedMicros: 8_412_350_000n,
      revenueNanoUsd: 8_412_350_000_000n,
      costNanoUsd: 5_907_118_442_107n,
      marginNanoUsd: 2_505_231_557_893n,
      marginBps: 2978,
      topCustomers: [
        { customerId: 'cus_acme', tier: 'enterprise', creditsMicros: 1_250_000_000n, calls: 21_400 },
        { customerId: 'cus_globex', tier: 'professional', creditsMicros: 980_500_000n, calls: 17_215 },
        { customerId: 'cus_initech', tier: 'starter', creditsMicros: 412_750_000n, calls: 9_960 },
        { customerId: 'cus_umbrella', tier: 'starter', creditsMicros: 305_125_000n, calls: 8_004 },
        { customerId: 'cus_hooli', tier: 'trial', creditsMicros: 99_990_000n, calls: 4_311 },
      ],
      dashboardUrl: 'https://admin.example.com/analytics',
      attachment: 'pdf',
    },
  };
}

/** One template's sample data. */
export function emailSample<T extends EmailTemplateId>(template: T): EmailTemplateData[T] {
  return emailSamples()[template];
}
