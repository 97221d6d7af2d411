/**
 * The admin analytics routes over the handler, on sample data: the JSON is the store's exact answer
 * (decoded back to bigints), CSV is one report table, PDF goes through the handler's `renderPdf`, and
 * bad queries are 400s that name the field.
 */
import { describe, expect, it } from 'vitest';
import { METRICS, type MetricName } from '../analytics/metrics.js';
import { checkReport } from '../analytics/report.js';
import { decodeMetricResult } from '../analytics/wire.js';
import { applySampleData, generateSampleData } from '../testing/sample-data.js';
import * as s from './schemas.js';
import { createHarness, type Harness } from './test-support.js';

const FROM = '2026-09-01T00:00:00.000Z';
const TO = '2026-11-01T00:00:00.000Z';

const SCHEMAS: Record<MetricName, { parse(value: unknown): unknown }> = {
  customers: s.customersMetricSchema,
  mrr: s.mrrMetricSchema,
  churn: s.churnMetricSchema,
  retention: s.retentionMetricSchema,
  funnel: s.funnelMetricSchema,
  usage: s.usageMetricSchema,
  margin: s.marginMetricSchema,
  utilization: s.utilizationMetricSchema,
  'top-customers': s.topCustomersMetricSchema,
};

async function seeded(options: Parameters<typeof createHarness>[0] = {}): Promise<Harness> {
  const h = await createHarness(options);
  const events = generateSampleData({ seed: 11, customers: 25, days: 60 });
  await applySampleData(h.tally, events, (at) => h.clock.set(at));
  h.clock.set(new Date('2026-11-02T00:00:00Z'));
  return h;
}

describe('admin analytics routes', () => {
  it('answer every metric with the store’s exact result, in the documented shape', async () => {
    const h = await seeded();
    for (const metric of METRICS) {
      const response = await h.call('GET', `/v1/admin/analytics/${metric}`, {
        as: 'admin',
        query: { from: FROM, to: TO, granularity: 'week' },
      });
      expect(response.status, metric).toBe(200);
      const body = await response.json();
      SCHEMAS[metric].parse(body);
      const direct = await h.tally.analytics.metric({ metric, from: new Date(FROM), to: new Date(TO), granularity: 'week' });
      expect(decodeMetricResult(body), metric).toEqual(direct);
    }
  });

  it('exports a report table as RFC 4180 CSV whose numbers are the JSON’s', async () => {
    const h = await seeded();
    const response = await h.call('GET', '/v1/admin/analytics/top-customers', {
      as: 'admin',
      query: { from: FROM, to: TO, format: 'csv', limit: '5' },
    });
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="tally-top-customers-2026-09-01-2026-11-01.csv"');
    const lines = (await response.text()).split('\r\n').filter((line) => line !== '');
    expect(lines[0]).toBe('Customer,Tier,Credits charged,Calls,Provider cost (USD)');
    const result = await h.tally.analytics.metric({ metric: 'top-customers', from: new Date(FROM), to: new Date(TO), limit: 5 });
    expect(result.customers.length).toBeGreaterThan(0);
    expect(lines.slice(1)).toHaveLength(result.customers.length);
    for (const [index, customer] of result.customers.entries()) {
      const [id, tier, credits, calls] = (lines[index + 1] as string).split(',');
      expect([id, tier, calls]).toEqual([customer.customerId, customer.tier, String(customer.calls)]);
      // Exact decimal credits: six decimals of micros.
      const [whole = '', fraction = ''] = (credits as string).split('.');
      expect(BigInt(whole + fraction.padEnd(6, '0'))).toBe(customer.creditsMicros);
    }
  });

  it('picks another table with `table`, and refuses one the report lacks', async () => {
    const h = await seeded();
    const split = await h.call('GET', '/v1/admin/analytics/usage', {
      as: 'admin',
      query: { from: FROM, to: TO, format: 'csv', table: '2' },
    });
    expect(split.headers.get('content-disposition')).toContain('tally-usage-2026-09-01-2026-11-01-2.csv');
    expect((await split.text()).split('\r\n')[0]).toBe('Calls that are,Calls,Tokens');
    const missing = await h.call('GET', '/v1/admin/analytics/usage', {
      as: 'admin',
      query: { from: FROM, to: TO, format: 'csv', table: '9' },
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe('VALIDATION');
  });

  it('renders PDF through the handler’s renderPdf, with the whole report', async () => {
    const reports: unknown[] = [];
    const h = await seeded({
      renderPdf: async (report) => {
        checkReport(report);
        reports.push(report);
        return new TextEncoder().encode('%PDF-1.7 test');
      },
    });
    const response = await h.call('GET', '/v1/admin/analytics/mrr', {
      as: 'admin',
      query: { from: FROM, to: TO, granularity: 'month', format: 'pdf' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(await response.text()).toBe('%PDF-1.7 test');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      title: 'Monthly recurring revenue',
      currency: 'USD',
      range: { from: new Date(FROM), to: new Date(TO) },
    });
  });

  it('says format=pdf is off without renderPdf', async () => {
    const h = await seeded();
    const response = await h.call('GET', '/v1/admin/analytics/mrr', { as: 'admin', query: { from: FROM, to: TO, format: 'pdf' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { detail: string }).detail).toContain('renderPdf');
  });

  it('refuses bad ranges, granularities and limits with a 400 that names the field, and reads nothing', async () => {
    const h = await seeded();
    const cases: Array<[string, Record<string, string>, string]> = [
      ['mrr', { from: TO, to: FROM }, 'to'],
      ['mrr', { from: FROM, to: FROM }, 'to'],
      ['mrr', { from: '2016-01-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'to'],
      ['mrr', { from: FROM, to: TO, granularity: 'hour' }, 'granularity'],
      ['mrr', { from: 'yesterday', to: TO }, 'from'],
      ['mrr', { to: TO }, 'from'],
      ['mrr', { from: FROM, to: TO, limit: '5' }, 'limit'],
      ['top-customers', { from: FROM, to: TO, limit: '0' }, 'limit'],
      ['top-customers', { from: FROM, to: TO, limit: '101' }, 'limit'],
      ['usage', { from: FROM, to: TO, format: 'xlsx' }, 'format'],
    ];
    for (const [metric, query, field] of cases) {
      const response = await h.call('GET', `/v1/admin/analytics/${metric}`, { as: 'admin', query });
      expect(response.status, JSON.stringify(query)).toBe(400);
      const problem = (await response.json()) as { code: string; issues?: Array<{ path: unknown[] }>; details?: { field?: string } };
      expect(problem.code).toBe('VALIDATION');
      const fields = [...(problem.issues ?? []).map((issue) => issue.path[0]), problem.details?.field];
      expect(fields.concat(JSON.stringify(problem.issues ?? [])).join(' '), JSON.stringify(query)).toContain(field);
    }
  });

  it('keeps customers out', async () => {
    const h = await seeded();
    const response = await h.call('GET', '/v1/admin/analytics/mrr', { as: 'ada', query: { from: FROM, to: TO } });
    expect(response.status).toBe(403);
  });
});
