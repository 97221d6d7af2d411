import { type EmailRenderContext, type EmailTemplateId, emailSample, TallyError } from '@tally/core';
import { describe, expect, it } from 'vitest';
import { createEmailRenderer, renderTallyEmail } from './index.js';
import { sampleContext } from './test-context.js';

/** Renders with a broken input and returns the error's `details.field`, failing unless it is a VALIDATION TallyError. */
async function invalidField(template: EmailTemplateId, data: unknown, context: unknown): Promise<string> {
  const rendering = renderTallyEmail(template, data as never, context as EmailRenderContext);
  await expect(rendering).rejects.toSatisfy((error) => TallyError.is(error, 'VALIDATION'));
  const error = (await rendering.catch((caught: unknown) => caught)) as TallyError;
  return String(error.details.field);
}

const withBrand = (template: EmailTemplateId, brand: Record<string, unknown>) => ({
  ...sampleContext(template),
  brand: { ...sampleContext(template).brand, ...brand },
});

describe('renderer input checks (VALIDATION naming the field)', () => {
  it('refuses an unknown template', async () => {
    expect(await invalidField('newsletter' as EmailTemplateId, emailSample('welcome'), sampleContext('welcome'))).toBe('template');
  });

  it.for([
    ['primaryColor', 'red'],
    ['primaryColor', '#12345'],
    ['primaryColor', 'rgb(0,0,0)'],
    ['primaryTextColor', '#ggg'],
    ['primaryTextColor', null],
    ['logoUrl', '/logo.png'],
    ['logoUrl', 'javascript:alert(1)'],
    ['logoUrl', 'data:image/png;base64,AAAA'],
    ['dashboardUrl', 'app.example.com/billing'],
    ['dashboardUrl', 'ftp://example.com/billing'],
    ['productName', ''],
    ['productName', undefined],
    ['footerAddress', '   '],
    ['supportEmail', 'not an address'],
  ] as const)('brand.%s = %j', async ([field, value]) => {
    expect(await invalidField('welcome', emailSample('welcome'), withBrand('welcome', { [field]: value }))).toBe(`context.brand.${field}`);
  });

  it('accepts #rgb and #rrggbb colours and http(s) URLs', async () => {
    const context = withBrand('welcome', { primaryColor: '#FA0', primaryTextColor: '#000000', logoUrl: 'http://localhost:3000/logo.png' });
    await expect(renderTallyEmail('welcome', emailSample('welcome'), context as EmailRenderContext)).resolves.toHaveProperty('subject');
  });

  it('checks the footer: an optional category needs its unsubscribe link, a required one its reason and no link', async () => {
    const low = sampleContext('low_balance');
    expect(await invalidField('low_balance', emailSample('low_balance'), { ...low, unsubscribeUrl: null })).toBe('context.unsubscribeUrl');
    expect(await invalidField('low_balance', emailSample('low_balance'), { ...low, unsubscribeUrl: '/v1/unsubscribe' })).toBe(
      'context.unsubscribeUrl',
    );
    expect(await invalidField('low_balance', emailSample('low_balance'), { ...low, requiredReason: 'because' })).toBe(
      'context.requiredReason',
    );
    const payment = sampleContext('payment_failed');
    expect(await invalidField('payment_failed', emailSample('payment_failed'), { ...payment, requiredReason: null })).toBe(
      'context.requiredReason',
    );
    expect(await invalidField('payment_failed', emailSample('payment_failed'), { ...payment, unsubscribeUrl: 'https://x.test/u' })).toBe(
      'context.unsubscribeUrl',
    );
  });

  it('checks the footer of an admin mail: neither an unsubscribe link nor a required reason', async () => {
    const report = sampleContext('analytics_report');
    expect(report).toMatchObject({ unsubscribeUrl: null, requiredReason: null });
    expect(await invalidField('analytics_report', emailSample('analytics_report'), { ...report, unsubscribeUrl: 'https://x.test/u' })).toBe(
      'context.unsubscribeUrl',
    );
    expect(await invalidField('analytics_report', emailSample('analytics_report'), { ...report, requiredReason: 'because' })).toBe(
      'context.requiredReason',
    );
  });

  it('refuses a locale that is not a BCP 47 tag, and a context that is not an object', async () => {
    expect(await invalidField('welcome', emailSample('welcome'), { ...sampleContext('welcome'), locale: 'english please' })).toBe(
      'context.locale',
    );
    expect(await invalidField('welcome', emailSample('welcome'), { ...sampleContext('welcome'), locale: '' })).toBe('context.locale');
    expect(await invalidField('welcome', emailSample('welcome'), null)).toBe('context');
    expect(await invalidField('welcome', emailSample('welcome'), { ...sampleContext('welcome'), brand: 'Tally' })).toBe('context.brand');
  });

  it.for<[EmailTemplateId, Record<string, unknown>, string]>([
    ['welcome', { tierName: '' }, 'data.tierName'],
    ['welcome', { allowanceMicros: 1000 }, 'data.allowanceMicros'],
    ['welcome', { allowanceMicros: -1n }, 'data.allowanceMicros'],
    ['welcome', { customerId: undefined }, 'data.customerId'],
    ['welcome', { customerName: 42 }, 'data.customerName'],
    ['low_balance', { remainingMicros: '74250000' }, 'data.remainingMicros'],
    ['low_balance', { renewsAt: new Date('not a date') }, 'data.renewsAt'],
    ['low_balance', { renewsAt: '2026-12-01' }, 'data.renewsAt'],
    ['monthly_reset', { periodEnd: new Date('2026-10-01T00:00:00Z') }, 'data.periodEnd'],
    ['coupon_redeemed', { benefit: { type: 'percent_off', percentOffBps: 0, durationPeriods: 3 } }, 'data.benefit.percentOffBps'],
    ['coupon_redeemed', { benefit: { type: 'percent_off', percentOffBps: 12.5, durationPeriods: 3 } }, 'data.benefit.percentOffBps'],
    ['coupon_redeemed', { benefit: { type: 'percent_off', percentOffBps: 2500, durationPeriods: 0 } }, 'data.benefit.durationPeriods'],
    ['coupon_redeemed', { benefit: { type: 'credits', amountMicros: 5, expiresAt: null } }, 'data.benefit.amountMicros'],
    ['coupon_redeemed', { benefit: { type: 'free_lunch' } }, 'data.benefit.type'],
    ['coupon_redeemed', { benefit: null }, 'data.benefit'],
    ['tier_upgraded', { timing: 'later' }, 'data.timing'],
    ['tier_upgraded', { currency: 'dollars' }, 'data.currency'],
    ['tier_downgraded', { priceMinor: 19.0 }, 'data.priceMinor'],
    ['tier_downgraded', { toTierName: null }, 'data.toTierName'],
    ['payment_failed', { attemptCount: 0 }, 'data.attemptCount'],
    ['payment_failed', { amountDueMinor: -4900n }, 'data.amountDueMinor'],
    ['payment_failed', { currency: 'US' }, 'data.currency'],
    ['analytics_report', { cadence: 'hourly' }, 'data.cadence'],
    ['analytics_report', { to: new Date('2026-11-16T00:00:00Z') }, 'data.to'],
    ['analytics_report', { mrr: { ...emailSample('analytics_report').mrr, atEnd: 12492.0 } }, 'data.mrr.atEnd'],
    ['analytics_report', { mrr: { ...emailSample('analytics_report').mrr, churn: -1n } }, 'data.mrr.churn'],
    ['analytics_report', { mrr: { ...emailSample('analytics_report').mrr, growthBps: 1.5 } }, 'data.mrr.growthBps'],
    ['analytics_report', { customers: { signUps: -1, active: 0, total: 0 } }, 'data.customers.signUps'],
    ['analytics_report', { revenueNanoUsd: 8412.35 }, 'data.revenueNanoUsd'],
    [
      'analytics_report',
      { topCustomers: [{ customerId: 'cus_a', tier: 'pro', creditsMicros: 1, calls: 1 }] },
      'data.topCustomers[0].creditsMicros',
    ],
    ['analytics_report', { dashboardUrl: 'admin.example.com' }, 'data.dashboardUrl'],
    ['analytics_report', { attachment: 'zip' }, 'data.attachment'],
    ['analytics_report', { recipientName: '' }, 'data.recipientName'],
  ])('%s with %o → %s', async ([template, change, field]) => {
    expect(await invalidField(template, { ...emailSample(template), ...change }, sampleContext(template))).toBe(field);
  });

  it('refuses data that is not an object', async () => {
    expect(await invalidField('welcome', null, sampleContext('welcome'))).toBe('data');
  });

  it('refuses custom messages under a tag that is not a locale, when the renderer is created', () => {
    expect(() => createEmailRenderer({ messages: { 'not a tag': {} } })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION', details: { field: 'messages.not a tag' } }),
    );
  });
});
