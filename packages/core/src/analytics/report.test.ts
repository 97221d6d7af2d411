import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { checkReport, checkReportTable, type Report } from './report.js';

const valid = (): Report => ({
  title: 'Revenue',
  subtitle: 'All customers',
  generatedAt: new Date('2026-04-01T09:00:00Z'),
  range: { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z') },
  currency: 'USD',
  tables: [
    {
      title: 'By day',
      columns: [
        { key: 'day', label: 'Day', kind: 'date' },
        { key: 'calls', label: 'Calls', kind: 'integer' },
        { key: 'credits', label: 'Credits', kind: 'credits' },
        { key: 'revenue', label: 'Revenue', kind: 'money' },
        { key: 'margin', label: 'Margin', kind: 'percent_bps' },
        { key: 'note', label: 'Note', kind: 'text' },
      ],
      rows: [
        { day: new Date('2026-03-01T00:00:00Z'), calls: 12, credits: 74_250_000n, revenue: 4900n, margin: 1250n, note: 'ok' },
        { day: null, calls: 3n, credits: null, revenue: -100n, margin: -20, note: null },
      ],
    },
  ],
  charts: [{ title: 'Credits', kind: 'bar', unit: 'credits', labels: ['Mar 1', 'Mar 2'], series: [{ name: 'Managed', values: [1n, 2n] }] }],
});

function issuesOf(report: unknown): TallyError['issues'] {
  try {
    checkReport(report as Report);
  } catch (error) {
    if (TallyError.is(error, 'VALIDATION')) return error.issues;
    throw error;
  }
  throw new Error('checkReport accepted a bad report');
}

describe('checkReport', () => {
  it('accepts a well-formed report, empty tables and charts included', () => {
    expect(() => checkReport(valid())).not.toThrow();
    expect(() => checkReport({ ...valid(), range: null, subtitle: null, tables: [], charts: [] })).not.toThrow();
  });

  it.each<[string, (report: Report) => unknown, ReadonlyArray<string | number>]>([
    ['a blank title', (r) => ({ ...r, title: '  ' }), ['title']],
    ['an invalid date', (r) => ({ ...r, generatedAt: new Date('nope') }), ['generatedAt']],
    ['a range that ends before it starts', (r) => ({ ...r, range: { from: r.range?.to, to: r.range?.from } }), ['range']],
    ['a currency that is not ISO 4217', (r) => ({ ...r, currency: 'dollars' }), ['currency']],
    ['no columns', (r) => ({ ...r, tables: [{ ...r.tables[0], columns: [] }] }), ['tables', 0, 'columns']],
    [
      'a column of unknown kind',
      (r) => ({ ...r, tables: [{ ...r.tables[0], columns: [{ key: 'a', label: 'A', kind: 'float' }] }] }),
      ['tables', 0, 'columns', 0, 'kind'],
    ],
    [
      'two columns with one key',
      (r) => ({
        ...r,
        tables: [
          {
            title: 't',
            rows: [],
            columns: [
              { key: 'a', label: 'A', kind: 'text' },
              { key: 'a', label: 'B', kind: 'text' },
            ],
          },
        ],
      }),
      ['tables', 0, 'columns', 1, 'key'],
    ],
    ['a row key no column has', (r) => withRow(r, { typo: 1 }), ['tables', 0, 'rows', 0, 'typo']],
    ['a missing cell', (r) => withRow(r, { calls: undefined }), ['tables', 0, 'rows', 0, 'calls']],
    ['a fraction in an integer column', (r) => withRow(r, { calls: 1.5 }), ['tables', 0, 'rows', 0, 'calls']],
    ['an unsafe integer', (r) => withRow(r, { calls: 2 ** 60 }), ['tables', 0, 'rows', 0, 'calls']],
    ['a float where credits go', (r) => withRow(r, { credits: 74.25 }), ['tables', 0, 'rows', 0, 'credits']],
    ['a number where money goes', (r) => withRow(r, { revenue: 4900 }), ['tables', 0, 'rows', 0, 'revenue']],
    ['fractional basis points', (r) => withRow(r, { margin: 12.5 }), ['tables', 0, 'rows', 0, 'margin']],
    ['a date string', (r) => withRow(r, { day: '2026-03-01' }), ['tables', 0, 'rows', 0, 'day']],
    ['a number in a text column', (r) => withRow(r, { note: 5 }), ['tables', 0, 'rows', 0, 'note']],
    ['a series shorter than the labels', (r) => withSeries(r, [{ name: 's', values: [1n] }]), ['charts', 0, 'series', 0, 'values']],
    ['a number in a series', (r) => withSeries(r, [{ name: 's', values: [1n, 2] }]), ['charts', 0, 'series', 0, 'values', 1]],
    ['a chart without series', (r) => withSeries(r, []), ['charts', 0, 'series']],
    ['no labels', (r) => ({ ...r, charts: [{ ...r.charts[0], labels: [] }] }), ['charts', 0, 'labels']],
    ['an unknown chart kind', (r) => ({ ...r, charts: [{ ...r.charts[0], kind: 'pie' }] }), ['charts', 0, 'kind']],
    ['an unknown chart unit', (r) => ({ ...r, charts: [{ ...r.charts[0], unit: 'percent_bps' }] }), ['charts', 0, 'unit']],
  ])('refuses %s with VALIDATION at its path', (_, change, path) => {
    expect(issuesOf(change(valid()))).toContainEqual({ path, message: expect.any(String) });
  });

  it('names every problem in one error, up to a cap', () => {
    const report = valid();
    const rows = Array.from({ length: 100 }, () => ({ ...report.tables[0]?.rows[0], credits: 1.5 }));
    const issues = issuesOf({ ...report, title: '', tables: [{ ...report.tables[0], rows }] });
    expect(issues[0]?.path).toEqual(['title']);
    expect(issues[1]?.path).toEqual(['tables', 0, 'rows', 0, 'credits']);
    expect(issues).toHaveLength(25);
  });

  it('refuses something that is not a report', () => {
    expect(issuesOf(null)).toEqual([{ path: [], message: 'must be a report object' }]);
  });
});

describe('checkReportTable', () => {
  it('checks one table with paths from the table', () => {
    const table = valid().tables[0];
    expect(() => checkReportTable(table as never)).not.toThrow();
    expect(() =>
      checkReportTable({ title: 't', columns: [{ key: 'a', label: 'A', kind: 'text' }], rows: [{ a: 1 as unknown as string }] }),
    ).toThrowError(
      expect.objectContaining({ code: 'VALIDATION', issues: [{ path: ['rows', 0, 'a'], message: expect.stringMatching(/string/) }] }),
    );
  });
});

function withRow(report: Report, change: Record<string, unknown>): unknown {
  const [table] = report.tables;
  return { ...report, tables: [{ ...table, rows: [{ ...table?.rows[0], ...change }] }] };
}

function withSeries(report: Report, series: unknown[]): unknown {
  return { ...report, charts: [{ ...report.charts[0], series }] };
}
