/**
 * The PDF as a reader gets it: rendered by poppler (the engine behind many Linux viewers and
 * pdf.js's test references), not inspected as pdfkit calls. pdfinfo reads the metadata, pdftotext the
 * text, pdftoppm rasterises every page. Page PNGs go to reports/analytics/ for a person to look at.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Report, type ReportRow, TallyError } from '@tally/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportPdf } from './index.js';

const run = promisify(execFile);
const poppler = (tool: string, args: string[]) =>
  run(`/usr/bin/${tool}`, args, { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20 });
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const artifacts = join(repoRoot, 'reports/analytics');

const LONG_NAME = 'Globex Corporation International Holdings and Subsidiaries, Research & Development Division (EMEA)';
const DAY_MS = 86_400_000;
const march = (day: number) => new Date(Date.UTC(2026, 2, day));

function sampleReport(): Report {
  const days = Array.from({ length: 14 }, (_, index) => index + 1);
  const daily: ReportRow[] = Array.from({ length: 120 }, (_, index) => ({
    day: new Date(march(1).getTime() - (119 - index) * DAY_MS),
    calls: BigInt(1_000 + ((index * 37) % 450)),
    tokens: BigInt(250_000 + index * 1_234),
    credits: BigInt(12_500_000 + index * 250_000),
  }));
  return {
    title: 'Usage and revenue — March 2026',
    subtitle: 'All customers, managed and BYOK calls',
    generatedAt: new Date('2026-04-01T09:00:00Z'),
    range: { from: march(1), to: new Date('2026-04-01T00:00:00Z') },
    currency: 'USD',
    charts: [
      {
        title: 'Credits charged per day',
        kind: 'bar',
        unit: 'credits',
        labels: days.map((day) => `Mar ${day}`),
        series: [
          { name: 'Managed', values: days.map((day) => BigInt(40_000_000 + ((day * 7_300_000) % 35_000_000))) },
          { name: 'BYOK platform fee', values: days.map((day) => BigInt(5_000_000 + ((day * 2_100_000) % 9_000_000))) },
        ],
      },
      {
        title: 'Revenue and provider cost per week',
        kind: 'line',
        unit: 'money',
        labels: ['W09', 'W10', 'W11', 'W12', 'W13'],
        series: [
          { name: 'Revenue', values: [182_000n, 199_500n, 214_900n, 208_000n, 231_450n] },
          { name: 'Provider cost', values: [96_000n, 101_250n, 99_900n, 118_000n, 121_300n] },
          { name: 'Refunds', values: [0n, -4_900n, 0n, -1_500n, 0n] },
        ],
      },
    ],
    tables: [
      {
        title: 'Top customers',
        columns: [
          { key: 'name', label: 'Customer', kind: 'text' },
          { key: 'calls', label: 'Calls', kind: 'integer' },
          { key: 'credits', label: 'Credits charged', kind: 'credits' },
          { key: 'revenue', label: 'Revenue', kind: 'money' },
          { key: 'margin', label: 'Margin', kind: 'percent_bps' },
        ],
        rows: [
          { name: 'Acme, Inc.', calls: 1_204n, credits: 74_250_000n, revenue: 4_900n, margin: 4_125n },
          { name: LONG_NAME, calls: 98_765_432n, credits: 1_234_567_890_123n, revenue: 123_456_789n, margin: 1_250 },
          { name: 'Zoë 🚀 Labs', calls: 12, credits: 1n, revenue: -250n, margin: -300n },
          { name: '=HYPERLINK("x")', calls: 0, credits: 0n, revenue: 0n, margin: null },
          { name: null, calls: null, credits: null, revenue: null, margin: null },
        ],
      },
      {
        title: 'Daily usage',
        columns: [
          { key: 'day', label: 'Day', kind: 'date' },
          { key: 'calls', label: 'Calls', kind: 'integer' },
          { key: 'tokens', label: 'Tokens', kind: 'integer' },
          { key: 'credits', label: 'Credits', kind: 'credits' },
        ],
        rows: daily,
      },
      {
        title: 'Tier funnel',
        columns: [
          { key: 'tier', label: 'Tier', kind: 'text' },
          { key: 'customers', label: 'Customers', kind: 'integer' },
          { key: 'conversion', label: 'Conversion', kind: 'percent_bps' },
          { key: 'since', label: 'First reached', kind: 'date' },
        ],
        rows: [
          { tier: 'Free', customers: 1_000n, conversion: null, since: new Date('2026-03-01T10:15:00Z') },
          { tier: 'Starter', customers: 240n, conversion: 2_400n, since: march(2) },
          { tier: 'Pro', customers: 60n, conversion: 2_500n, since: march(5) },
          { tier: 'Enterprise', customers: 6n, conversion: 1_000n, since: march(20) },
        ],
      },
    ],
  };
}

interface Raster {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** A binary PPM (P6, maxval 255) as pdftoppm writes it. */
function readPpm(bytes: Uint8Array): Raster {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[at] as number))) at++;
    let field = '';
    while (!/\s/.test(String.fromCharCode(bytes[at] as number))) field += String.fromCharCode(bytes[at++] as number);
    fields.push(field);
  }
  const [magic, width, height, max] = fields;
  expect([magic, max]).toEqual(['P6', '255']);
  return { width: Number(width), height: Number(height), pixels: bytes.subarray(at + 1) };
}

/** Pixels within `tolerance` (per channel) of an RGB colour. */
function countColour(raster: Raster, [r, g, b]: [number, number, number], tolerance = 24): number {
  let count = 0;
  for (let at = 0; at + 2 < raster.pixels.length; at += 3) {
    const close =
      Math.abs((raster.pixels[at] as number) - r) <= tolerance &&
      Math.abs((raster.pixels[at + 1] as number) - g) <= tolerance &&
      Math.abs((raster.pixels[at + 2] as number) - b) <= tolerance;
    if (close) count++;
  }
  return count;
}

const AMBER: [number, number, number] = [0xf5, 0x9e, 0x0b];

describe('renderReportPdf', () => {
  let dir: string;
  let pdfPath: string;
  let pageCount: number;
  let pageTexts: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-pdf-'));
    pdfPath = join(dir, 'report.pdf');
    await writeFile(pdfPath, await renderReportPdf(sampleReport()));
    const info = (await poppler('pdfinfo', [pdfPath])).stdout;
    pageCount = Number(/^Pages:\s+(\d+)$/m.exec(info)?.[1]);
    pageTexts = [];
    for (let page = 1; page <= pageCount; page++) {
      pageTexts.push((await poppler('pdftotext', ['-layout', '-f', String(page), '-l', String(page), pdfPath, '-'])).stdout);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a PDF poppler reads: A4 pages, the title and the creation date in the metadata', async () => {
    const info = (await poppler('pdfinfo', [pdfPath])).stdout;
    expect(pageCount).toBeGreaterThanOrEqual(3);
    expect(info).toMatch(/^Title:\s+Usage and revenue — March 2026$/m);
    expect(info).toMatch(/^Subject:\s+All customers, managed and BYOK calls$/m);
    expect(info).toMatch(/^CreationDate:\s+Wed Apr\s+1 09:00:00 2026 UTC$/m);
    expect(info).toMatch(/^Page size:\s+595\.28 x 841\.89 pts \(A4\)$/m);
  });

  it('rasterises every page to a PNG (copied to reports/analytics/)', async () => {
    const prefix = join(dir, 'page');
    await poppler('pdftoppm', ['-png', '-r', '60', pdfPath, prefix]);
    const pngs = (await readdir(dir)).filter((name) => name.startsWith('page') && name.endsWith('.png')).sort();
    expect(pngs).toHaveLength(pageCount);
    await mkdir(artifacts, { recursive: true });
    for (const name of pngs) {
      const png = await readFile(join(dir, name));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      await copyFile(join(dir, name), join(artifacts, `sample-report-${name}`));
    }
  });

  it('draws the charts in colour on their page, and no chart colour on pages of tables only', async () => {
    const prefix = join(dir, 'raw');
    // PPM (raw RGB) is pdftoppm's default output: easy to read without a PNG decoder.
    await poppler('pdftoppm', ['-r', '60', pdfPath, prefix]);
    const ppms = (await readdir(dir)).filter((name) => name.startsWith('raw') && name.endsWith('.ppm')).sort();
    expect(ppms).toHaveLength(pageCount);
    const chartPages = pageTexts.flatMap((text, index) => (text.includes('Credits charged per day') ? [index] : []));
    expect(chartPages).toEqual([0]);
    for (const [index, name] of ppms.entries()) {
      const raster = readPpm(await readFile(join(dir, name)));
      expect(raster.width).toBe(497); // 595.28 pt at 60 dpi, rounded up
      const amber = countColour(raster, AMBER);
      if (chartPages.includes(index)) expect(amber).toBeGreaterThan(300);
      else expect(amber).toBe(0);
    }
  });

  it('prints the exact formatted amounts', () => {
    const text = pageTexts.join('\n');
    expect(text).toContain('74.25 credits');
    expect(text).toContain('$49.00');
    expect(text).toContain('1,234,567.89 credits');
    expect(text).toContain('$1,234,567.89');
    expect(text).toContain('-$2.50');
    expect(text).toContain('0.00 credits');
    expect(text).toContain('41.25%');
    expect(text).toContain('-3%');
    expect(text).toContain('98,765,432');
    expect(text).toContain('2026-03-01 10:15 UTC');
    expect(text).toMatch(/Range 2026-03-01 – 2026-03-31 \(UTC\)\s+·\s+Amounts in USD\s+·\s+Generated 2026-04-01 09:00 UTC/);
    // Axis ticks are round numbers of the unit.
    expect(text).toMatch(/\$2,500\.00/);
  });

  it('repeats the table header on every page the table continues on, and numbers each page', () => {
    const continued = pageTexts.filter((text) => text.includes('Daily usage (continued)'));
    expect(continued.length).toBeGreaterThanOrEqual(2);
    for (const text of continued) expect(text).toMatch(/Day\s+Calls\s+Tokens\s+Credits/);
    pageTexts.forEach((text, index) => {
      expect(text).toContain(`Page ${index + 1} of ${pageCount}`);
    });
    // All 120 daily rows are there, each once: 2025-11-02 … 2026-03-01.
    const days = pageTexts.join('\n').match(/^\s*20\d\d-\d\d-\d\d\s+[\d,]+\s/gm) ?? [];
    expect(days).toHaveLength(120);
  });

  it('cuts text that does not fit with an ellipsis, and shows characters the fonts lack as ?', () => {
    const text = pageTexts.join('\n');
    expect(text).toContain('Globex Corporation');
    expect(text).not.toContain('(EMEA)');
    expect(text).toMatch(/Globex Corporation[^\n]*…/);
    expect(text).toContain('Zoë ? Labs');
    expect(text).toContain('=HYPERLINK("x")');
  });

  it('gives the same bytes for the same report, and different bytes for another generation time', async () => {
    const first = await renderReportPdf(sampleReport());
    const second = await renderReportPdf(sampleReport());
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
    const later = await renderReportPdf({ ...sampleReport(), generatedAt: new Date('2026-04-02T09:00:00Z') });
    expect(Buffer.from(later).equals(Buffer.from(first))).toBe(false);
  });

  it('renders a report with no range, an empty table and a single-point chart', async () => {
    const report: Report = {
      title: 'Snapshot',
      subtitle: null,
      generatedAt: new Date('2026-04-01T00:00:00Z'),
      range: null,
      currency: 'JPY',
      charts: [{ title: 'Balance', kind: 'line', unit: 'money', labels: ['Now'], series: [{ name: 'Balance', values: [0n] }] }],
      tables: [{ title: 'Nothing yet', columns: [{ key: 'amount', label: 'Amount', kind: 'money' }], rows: [] }],
    };
    const path = join(dir, 'snapshot.pdf');
    await writeFile(path, await renderReportPdf(report, { brand: { productName: 'Acme AI', primaryColor: '#fc0' } }));
    const text = (await poppler('pdftotext', ['-layout', path, '-'])).stdout;
    expect(text).toContain('Acme AI');
    expect(text).toContain('No rows in this range');
    expect(text).toContain('¥0');
    expect(text).not.toContain('Range');
    expect((await poppler('pdfinfo', [path])).stdout).toMatch(/^Pages:\s+1$/m);
  });

  it('refuses a bad report or brand with VALIDATION', async () => {
    const bad = async (report: Report, options?: Parameters<typeof renderReportPdf>[1]) => {
      const error = await renderReportPdf(report, options).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(TallyError.is(error, 'VALIDATION')).toBe(true);
      return error as TallyError;
    };
    const report = sampleReport();
    const [chart] = report.charts;
    const [table] = report.tables;
    if (!chart || !table) throw new Error('sample report changed');
    const short = await bad({ ...report, charts: [{ ...chart, labels: ['only one'] }] });
    expect(short.issues[0]?.path).toEqual(['charts', 0, 'series', 0, 'values']);
    const float = await bad({ ...report, tables: [{ ...table, rows: [{ ...table.rows[0], credits: 74.25 }] }] });
    expect(float.issues[0]?.path).toEqual(['tables', 0, 'rows', 0, 'credits']);
    await bad(report, { brand: { productName: 'Acme', primaryColor: 'indigo' } });
    await bad(report, { brand: { productName: ' ', primaryColor: '#123456' } });
  });
});
