import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { EMAIL_TEMPLATES } from './email.js';
import { emailSample } from './email-samples.js';
import { decodeEmailPayload, encodeEmailPayload } from './payload.js';

const isValidation = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return TallyError.is(error, 'VALIDATION');
  }
  return false;
};

describe('the email.send payload', () => {
  it('carries every template’s data exactly: bigints and dates come back equal, not as strings or floats', () => {
    for (const template of EMAIL_TEMPLATES) {
      const data = emailSample(template);
      const decoded = decodeEmailPayload(encodeEmailPayload({ template, data, key: `k:${template}` }));
      expect(decoded).toEqual({ template, data, key: `k:${template}` });
    }
    const big = { customerId: 'c', customerName: null, remainingMicros: -(2n ** 70n), allowanceMicros: 2n ** 63n + 1n, renewsAt: null };
    expect(decodeEmailPayload(encodeEmailPayload({ template: 'low_balance', data: big, key: 'k' })).data).toEqual(big);
  });

  it('refuses what it cannot carry, and anything it did not write', () => {
    const data = emailSample('welcome');
    expect(
      isValidation(() =>
        encodeEmailPayload({ template: 'welcome', data: { ...data, tierName: Number.NaN as unknown as string }, key: 'k' }),
      ),
    ).toBe(true);
    expect(isValidation(() => encodeEmailPayload({ template: 'welcome', data: { ...data, $x: 1 } as typeof data, key: 'k' }))).toBe(true);
    expect(
      isValidation(() => encodeEmailPayload({ template: 'welcome', data: { ...data, at: new Date(Number.NaN) } as typeof data, key: 'k' })),
    ).toBe(true);
    expect(isValidation(() => encodeEmailPayload({ template: 'nope' as 'welcome', data, key: 'k' }))).toBe(true);
    const good = JSON.parse(encodeEmailPayload({ template: 'welcome', data, key: 'k' })) as Record<string, unknown>;
    const variants = [
      'not json',
      'null',
      JSON.stringify({ ...good, v: 2 }),
      JSON.stringify({ ...good, template: 'nope' }),
      JSON.stringify({ ...good, key: '' }),
      JSON.stringify({ ...good, data: { ...(good.data as object), allowanceMicros: { $bigint: '1.5' } } }),
      JSON.stringify({ ...good, data: { ...(good.data as object), allowanceMicros: { $date: '2026-01-01' } } }),
      JSON.stringify({ ...good, data: { ...(good.data as object), allowanceMicros: { $other: '1' } } }),
      JSON.stringify({ ...good, data: { tierName: 'x' } }),
    ];
    for (const text of variants)
      expect(
        isValidation(() => decodeEmailPayload(text)),
        text,
      ).toBe(true);
  });
});
