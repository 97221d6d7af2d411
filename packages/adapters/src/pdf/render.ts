import { checkReport, type Report, TallyError } from '@tally/core';
import PDFDocument from 'pdfkit';
import { drawChart } from './chart.js';
import { formatUtc } from './format.js';
import { Canvas, type Doc, FONT, FONT_BOLD, PAGE, theme } from './layout.js';
import { drawTable } from './table.js';
import { drawText } from './text.js';

/** Whose report it is: the name in the header and footer, the colour of headers and the first series. */
export interface PdfBrand {
  productName: string;
  /** A hex colour, `#rgb` or `#rrggbb`. */
  primaryColor: string;
}

export interface RenderReportPdfOptions {
  /** Default: Tally's own (`Tally`, `#4f46e5`). */
  brand?: PdfBrand;
}

const DEFAULT_BRAND: PdfBrand = { productName: 'Tally', primaryColor: '#4f46e5' };
const HEX_COLOUR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const DAY_MS = 86_400_000;

function checkBrand(brand: unknown): PdfBrand {
  const invalid = (field: string, message: string) => new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
  if (typeof brand !== 'object' || brand === null) throw invalid('brand', 'must be an object');
  const { productName, primaryColor } = brand as Partial<PdfBrand>;
  if (typeof productName !== 'string' || productName.trim() === '') throw invalid('brand.productName', 'must not be blank');
  if (typeof primaryColor !== 'string' || !HEX_COLOUR.test(primaryColor)) {
    throw invalid('brand.primaryColor', 'must be a hex colour (#rgb or #rrggbb)');
  }
  return { productName, primaryColor };
}

const isUtcDay = (date: Date) => date.getTime() % DAY_MS === 0;

/** A whole-day range reads inclusively ("2026-03-01 – 2026-03-31"); anything else shows both instants. */
function formatRange(range: { from: Date; to: Date }): string {
  if (isUtcDay(range.from) && isUtcDay(range.to)) {
    const last = new Date(range.to.getTime() - DAY_MS);
    return last.getTime() === range.from.getTime() ? formatUtc(range.from) : `${formatUtc(range.from)} – ${formatUtc(last)}`;
  }
  return `${formatUtc(range.from)} – ${formatUtc(range.to)}`;
}

function drawReportHeader(canvas: Canvas, report: Report, brand: PdfBrand): void {
  const { doc, colours } = canvas;
  doc.font(FONT_BOLD).fontSize(9).fillColor(colours.primary);
  drawText(doc, brand.productName, canvas.left, canvas.y, canvas.width);
  canvas.y += 16;
  doc.font(FONT_BOLD).fontSize(20).fillColor(colours.text);
  drawText(doc, report.title, canvas.left, canvas.y, canvas.width);
  canvas.y += 26;
  if (report.subtitle) {
    doc.font(FONT).fontSize(11).fillColor(colours.muted);
    drawText(doc, report.subtitle, canvas.left, canvas.y, canvas.width);
    canvas.y += 17;
  }
  const facts = [
    report.range ? `Range ${formatRange(report.range)} (UTC)` : null,
    `Amounts in ${report.currency.toUpperCase()}`,
    `Generated ${formatUtc(report.generatedAt)}`,
  ];
  doc.font(FONT).fontSize(8.5).fillColor(colours.muted);
  drawText(doc, facts.filter(Boolean).join('  ·  '), canvas.left, canvas.y, canvas.width);
  canvas.y += 16;
  doc.moveTo(canvas.left, canvas.y).lineTo(canvas.right, canvas.y).lineWidth(1.5).strokeColor(colours.primary).stroke();
  canvas.y += 20;
}

/** "Product · Title" and "Page n of N" on every page, written once the page count is known. */
function drawFooters(canvas: Canvas, report: Report, brand: PdfBrand): void {
  const { doc, colours } = canvas;
  const { start, count } = doc.bufferedPageRange();
  const y = PAGE.height - PAGE.margin.bottom + 24;
  for (let index = 0; index < count; index++) {
    doc.switchToPage(start + index);
    doc
      .moveTo(canvas.left, y - 8)
      .lineTo(canvas.right, y - 8)
      .lineWidth(0.5)
      .strokeColor(colours.rule)
      .stroke();
    doc.font(FONT).fontSize(7.5).fillColor(colours.muted);
    const pageText = `Page ${index + 1} of ${count}`;
    const pageWidth = doc.widthOfString(pageText);
    drawText(doc, `${brand.productName} · ${report.title}`, canvas.left, y, canvas.width - pageWidth - 24);
    drawText(doc, pageText, canvas.left, y, canvas.width, 'right');
  }
}

function collect(doc: Doc): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    doc.on('error', reject);
    doc.on('end', () => {
      const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
      let offset = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve(bytes);
    });
  });
}

/**
 * A report as an A4 PDF: a header (brand, title, subtitle, range), the charts, then the tables, and
 * page numbers in the footer. The bytes depend on the report and options only (the PDF's creation
 * date is `report.generatedAt`, its file id a hash of its metadata), so the same report renders to
 * the same file. A bad report or brand is refused with `VALIDATION` before anything is drawn.
 */
export async function renderReportPdf(report: Report, options: RenderReportPdfOptions = {}): Promise<Uint8Array> {
  checkReport(report);
  const brand = checkBrand(options.brand ?? DEFAULT_BRAND);
  const doc: Doc = new PDFDocument({
    size: PAGE.size,
    margins: PAGE.margin,
    bufferPages: true,
    displayTitle: true,
    lang: 'en',
    info: {
      Title: report.title,
      ...(report.subtitle ? { Subject: report.subtitle } : {}),
      Author: brand.productName,
      Creator: brand.productName,
      Producer: 'Tally',
      CreationDate: report.generatedAt,
      ModDate: report.generatedAt,
    },
  });
  const bytes = collect(doc);
  const canvas = new Canvas(doc, theme(brand.primaryColor));
  drawReportHeader(canvas, report, brand);
  for (const chart of report.charts) drawChart(canvas, chart, report.currency);
  for (const table of report.tables) drawTable(canvas, table, report.currency);
  drawFooters(canvas, report, brand);
  doc.end();
  return bytes;
}
