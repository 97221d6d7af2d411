import { describe, expect, it } from 'vitest';
import type { Report } from '../analytics/report.js';
import { TallyError } from '../errors/index.js';
import { CUSTOMER_EMAIL_TEMPLATES } from './email.js';
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
    for (const template of CUSTOMER_EMAIL_TEMPLATES) {
      const data = emailSample(template);
      const decoded = decodeEmailPayload(encodeEmailPayload({ template, data, key: `k:${template}` }));
      expect(decoded).toEqual({ template, data, key: `k:${template}` });
    }
    const big = { customerId: 'c', customerName: null, remainingMicros: -(2n ** 70n), allowanceMicros: 2n ** 63n + 1n, renewsAt: null };
    expect(decodeEmailPayload(encodeEmailPayload({ template: 'low_balance', data: big, key: 'k' })).data).toEqual(big);
  });

  it('carries an admin mail’s recipient, locale and report exactly', () => {
    const report: Report = {
      title: 'Weekly analytics report',
      subtitle: '2026-W47 (UTC)',
      generatedAt: new Date('2026-11-23T06:00:01.250Z'),
      range: { from: new Date('2026-11-16T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') },
      currency: 'USD',
      tables: [
        {
          title: 'Summary: MRR',
          columns: [
            { key: 'atEnd', label: 'MRR at end', kind: 'money' },
            { key: 'growthBps', label: 'Growth', kind: 'percent_bps' },
            { key: 'name', label: 'Name', kind: 'text' },
          ],
          rows: [{ atEnd: 2n ** 70n, growthBps: null, name: '$bigint' }],
        },
      ],
      charts: [{ title: 'MRR', kind: 'line', unit: 'money', labels: ['2026-11-16'], series: [{ name: 'MRR', values: [-(2n ** 64n)] }] }],
    };
    const admin = { to: { address: 'ops@example.com', name: 'Ops' }, locale: 'de', attach: 'pdf' as const, report };
    const data = emailSample('analytics_report');
    const decoded = decodeEmailPayload(encodeEmailPayload({ template: 'analytics_report', data, key: 'report:w', admin }));
    expect(decoded).toEqual({ template: 'analytics_report', data, key: 'report:w', admin });
    const none = { ...admin, locale: null, attach: 'none' as const, report: null };
    expect(decodeEmailPayload(encodeEmailPayload({ template: 'analytics_report', data, key: 'k', admin: none })).admin).toEqual(none);
    // An admin mail names its recipient; a customer mail never does.
    expect(isValidation(() => encodeEmailPayload({ template: 'analytics_report', data, key: 'k' }))).toBe(true);
    expect(isValidation(() => encodeEmailPayload({ template: 'welcome', data: emailSample('welcome'), key: 'k', admin }))).toBe(true);
    const good = JSON.parse(encodeEmailPayload({ template: 'analytics_report', data, key: 'k', admin })) as Record<string, unknown>;
    const goodAdmin = good.admin as Record<string, unknown>;
    for (const bad of [
      { ...good, admin: undefined },
      { ...good, admin: { ...goodAdmin, to: { address: 'not an address', name: null } } },
      { ...good, admin: { ...goodAdmin, locale: 'english please' } },
      { ...good, admin: { ...goodAdmin, attach: 'zip' } },
      { ...good, admin: { ...goodAdmin, report: null } },
    ]) {
      expect(isValidation(() => decodeEmailPayload(JSON.stringify(bad)))).toBe(true);
    }
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
