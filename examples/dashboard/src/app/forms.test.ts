import { TallyError } from '@tally/core';
import { describe, expect, it } from 'vitest';
import { exportUrl } from './admin/analytics-page.tsx';
import { couponInput, EMPTY_COUPON } from './admin/coupon-input.ts';
import { benefitText } from './admin/coupons-page.tsx';
import { parseCreditChange } from './admin/credit-forms.ts';
import { checkRecipient } from './admin/emails-page.tsx';
import { microsToDecimal } from './credits.ts';
import { capToMicros } from './customer/spend-caps-form.tsx';
import { homeFor } from './sign-in-page.tsx';

function refused(run: () => unknown, field?: string): TallyError {
  try {
    run();
  } catch (error) {
    expect(TallyError.is(error, 'VALIDATION')).toBe(true);
    if (field) expect((error as TallyError).issues[0]?.path).toEqual([field]);
    return error as TallyError;
  }
  throw new Error('expected a VALIDATION error');
}

describe('credit amounts', () => {
  it('prints micros exactly', () => {
    expect(microsToDecimal('12500000')).toBe('12.5');
    expect(microsToDecimal(-1n)).toBe('-0.000001');
    expect(microsToDecimal('90071992547409931234567')).toBe('90071992547409931.234567');
    expect(microsToDecimal(0n)).toBe('0');
  });

  it('checks an admin grant or adjustment before sending it', () => {
    expect(parseCreditChange('grant', ' 2.5 ', ' goodwill ')).toEqual({ amountMicros: '2500000', reason: 'goodwill' });
    expect(parseCreditChange('adjust', '-0.000001', 'fix')).toEqual({ amountMicros: '-1', reason: 'fix' });
    refused(() => parseCreditChange('grant', '-1', 'x'), 'amount');
    refused(() => parseCreditChange('grant', '0', 'x'), 'amount');
    refused(() => parseCreditChange('adjust', '0.0', 'x'), 'amount');
    refused(() => parseCreditChange('grant', '1e3', 'x'), 'amount');
    refused(() => parseCreditChange('grant', '0.0000001', 'x'), 'amount');
    refused(() => parseCreditChange('grant', '1', '   '), 'reason');
    refused(() => parseCreditChange('grant', '1', 'x'.repeat(501)), 'reason');
  });

  it('turns typed spend caps into micros, empty meaning none', () => {
    expect(capToMicros('', 'Daily cap')).toBeNull();
    expect(capToMicros(' 7.25 ', 'Daily cap')).toBe('7250000');
    expect(refused(() => capToMicros('0', 'Daily cap')).message).toMatch(/^Daily cap/);
    expect(refused(() => capToMicros('abc', 'Monthly cap')).message).toMatch(/^Monthly cap/);
  });
});

describe('coupon form', () => {
  const today = new Date('2026-11-20T12:00:00.000Z');

  it('builds a credits coupon and a discount exactly', () => {
    expect(
      couponInput(
        {
          ...EMPTY_COUPON,
          code: ' spring-25 ',
          credits: '12.5',
          expiresInDays: '30',
          maxRedemptions: '100',
          tiers: 'Starter, professional',
        },
        today,
      ),
    ).toEqual({
      code: 'SPRING-25',
      benefit: { kind: 'credits', amountMicros: '12500000', expiresInDays: 30 },
      maxRedemptions: 100,
      expiresAt: null,
      tiers: ['starter', 'professional'],
    });
    expect(
      couponInput(
        { ...EMPTY_COUPON, code: 'HALF', kind: 'percent_off', percent: '12.5', durationPeriods: '3', expiresOn: '2026-12-31' },
        today,
      ),
    ).toEqual({
      code: 'HALF',
      benefit: { kind: 'percent_off', percentOffBps: 1250, durationPeriods: 3 },
      maxRedemptions: null,
      expiresAt: '2027-01-01T00:00:00.000Z',
      tiers: [],
    });
    expect(benefitText({ kind: 'percent_off', percentOffBps: 1250, durationPeriods: 3 })).toBe('12.5% off for 3 periods');
    expect(benefitText({ kind: 'credits', amountMicros: '5000000', expiresInDays: null })).toBe('5 credits');
  });

  it('names the field that is wrong', () => {
    refused(() => couponInput({ ...EMPTY_COUPON, code: '', credits: '1' }, today), 'code');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'A B', credits: '1' }, today), 'code');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', credits: '0' }, today), 'credits');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', credits: '1', expiresInDays: '1.5' }, today), 'expiresInDays');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', kind: 'percent_off', percent: '100.5' }, today), 'percent');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', kind: 'percent_off', percent: '10.125' }, today), 'percent');
    refused(
      () => couponInput({ ...EMPTY_COUPON, code: 'X', kind: 'percent_off', percent: '10', durationPeriods: '' }, today),
      'durationPeriods',
    );
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', credits: '1', maxRedemptions: '0' }, today), 'maxRedemptions');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', credits: '1', expiresOn: '2026-11-19' }, today), 'expiresOn');
    refused(() => couponInput({ ...EMPTY_COUPON, code: 'X', credits: '1', tiers: 'starter; pro' }, today), 'tiers');
  });
});

describe('small checks', () => {
  it('sends each principal home, or where it asked to go if it may', () => {
    const customer = { customerId: 'cus_ada', roles: ['customer'] };
    const admin = { customerId: null, roles: ['admin'] };
    expect(homeFor(customer, null)).toBe('/app/account');
    expect(homeFor(customer, '/app/plan')).toBe('/app/plan');
    expect(homeFor(customer, '/admin/audit')).toBe('/app/account');
    expect(homeFor(admin, '/admin/audit')).toBe('/admin/audit');
    expect(homeFor(admin, '/app/plan')).toBe('/admin/health');
    expect(homeFor(admin, 'https://elsewhere.example/')).toBe('/admin/health');
  });

  it('builds export links for the chosen range', () => {
    const range = { from: new Date('2026-10-01T00:00:00.000Z'), to: new Date('2026-11-01T00:00:00.000Z'), granularity: 'week' as const };
    const url = new URL(exportUrl('top-customers', range, 'pdf'), 'http://x');
    expect(url.pathname).toBe('/v1/admin/analytics/top-customers');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      from: '2026-10-01T00:00:00.000Z',
      to: '2026-11-01T00:00:00.000Z',
      granularity: 'week',
      format: 'pdf',
    });
  });

  it('checks a test recipient', () => {
    expect(checkRecipient(' ops@example.com ')).toBe('ops@example.com');
    refused(() => checkRecipient('ops'));
    refused(() => checkRecipient('a b@example.com'));
  });
});
