/**
 * Every metric's export as an admin downloads it from the HTTP API, read by real tools: each CSV
 * table through csv-parse must give back the report's exact numbers, and each PDF (rendered by
 * `renderReportPdf` from `@tally/adapters/pdf`, passed to the handler as `renderPdf`) must open in
 * poppler and rasterise (pdftoppm → PNG, under reports/analytics/metrics/).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderReportPdf } from '@tally/adapters/pdf';
import {
  createMemoryStore,
  createTally,
  METRICS,
  type MetricName,
  metricReport,
  type Report,
  type ReportCell,
  type ReportColumn,
  sampleCatalog,
} from '@tally/core';
import { createTallyHandler } from '@tally/core/http';
import { applySampleData, createFakeClock, generateSampleData } from '@tally/core/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const artifacts = join(dirname(fileURLToPath(import.meta.url)), '../../reports/analytics/metrics');
const FROM = new Date('2026-08-15T00:00:00Z');
const TO = new Date('2026-11-01T00:00:00Z');
const NOW = new Date('2026-11-02T00:00:00Z');

let handler: (request: Request) => Promise<Response>;
let reportOf: (metric: MetricName) => Promise<Report>;
let work: string;

beforeAll(async () => {
  const clock = createFakeClock('2026-11-02T00:00:00Z');
  const tally = createTally({ catalog: sampleCatalog, store: createMemoryStore(), clock });
  await applySampleData(tally, generateSampleData({ seed: 5, customers: 40, days: 90 }), (at) => clock.set(at));
  clock.set(NOW);
  handler = createTallyHandler({
    tally,
    clock,
    renderPdf: (report) => renderReportPdf(report),
    authenticate: async () => ({ customerId: null, roles: ['admin'] }),
  });
  reportOf = async (metric) =>
    metricReport(await tally.analytics.metric({ metric, from: FROM, to: TO, granularity: 'week' }), { currency: 'USD', generatedAt: NOW });
  work = await mkdtemp(join(tmpdir(), 'tally-exports-'));
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const get = (metric: MetricName, query: Record<string, string>) =>
  handler(
    new Request(
      `https://api.example.com/v1/admin/analytics/${metric}?${new URLSearchParams({ from: FROM.toISOString(), to: TO.toISOString(), granularity: 'week', ...query })}`,
    ),
  );

/** The exact value a CSV cell must hold, written the way the export documents (docs/analytics.md). */
function expected(column: ReportColumn, cell: ReportCell): string {
  if (cell === null) return '';
  switch (column.kind) {
    case 'text':
      return /^[=+\-@\t\r]/.test(cell as string) ? `'${cell}` : (cell as string);
    case 'date':
      return (cell as Date).toISOString();
    default:
      return String(cell);
  }
}

/** A CSV number back to the integer the report held: credits have 6 decimals, money 2 (USD), nano-USD 9, percents 2. */
function integerOf(column: ReportColumn, text: string): string {
  const scale = { credits: 6, money: 2, usd_nano: 9, percent_bps: 2, integer: 0 }[column.kind as 'credits'];
  if (scale === 0) return text;
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  expect(fraction.length, `${column.key} ${text}`).toBeLessThanOrEqual(scale);
  return `${negative ? '-' : ''}${BigInt(whole + fraction.padEnd(scale, '0'))}`;
}

describe('metric exports', () => {
  it('every table of every metric round-trips through a CSV parser with the same numbers', async () => {
    let tables = 0;
    for (const metric of METRICS) {
      const report = await reportOf(metric);
      for (const [index, table] of report.tables.entries()) {
        const response = await get(metric, { format: 'csv', table: String(index) });
        expect(response.status, `${metric} ${index}`).toBe(200);
        const records: string[][] = parse(await response.text(), { relax_column_count: false });
        expect(records[0]).toEqual(table.columns.map((column) => column.label));
        expect(records.slice(1)).toHaveLength(table.rows.length);
        for (const [r, row] of table.rows.entries()) {
          const record = records[r + 1] as string[];
          for (const [c, column] of table.columns.entries()) {
            const cell = row[column.key] ?? null;
            const text = record[c] as string;
            if (cell === null || column.kind === 'text' || column.kind === 'date') expect(text).toBe(expected(column, cell));
            else expect(integerOf(column, text), `${metric} ${table.title} ${column.key}`).toBe(String(cell));
          }
        }
        tables++;
      }
    }
    expect(tables).toBeGreaterThanOrEqual(METRICS.length);
  });

  it('every metric’s PDF opens in poppler and renders to PNG pages', async () => {
    for (const metric of METRICS) {
      const response = await get(metric, { format: 'pdf' });
      expect(response.status, metric).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      const bytes = new Uint8Array(await response.arrayBuffer());
      const pdf = join(work, `${metric}.pdf`);
      await writeFile(pdf, bytes);
      const info = (await run('/usr/bin/pdfinfo', [pdf])).stdout;
      expect(info).toMatch(/Pages:\s+[1-9]/);
      const text = (await run('/usr/bin/pdftotext', ['-layout', pdf, '-'])).stdout;
      expect(text).toContain((await reportOf(metric)).title);
      const prefix = join(artifacts, metric);
      await run('/usr/bin/pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', pdf, prefix]);
      const pages = (await readdir(artifacts)).filter((name) => name.startsWith(`${metric}-`) && name.endsWith('.png'));
      expect(pages.length, metric).toBeGreaterThan(0);
      const png = await readFile(join(artifacts, pages[0] as string));
      expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    }
  });
});
