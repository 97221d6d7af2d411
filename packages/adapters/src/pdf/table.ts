/**
 * A report table: a title, a header row in the brand colour (drawn again at the top of every page the
 * table continues on), zebra rows, numbers right-aligned. Columns are as wide as their widest cell;
 * when the table is wider than the page, text columns give up width first (numbers are never cut
 * while text can be).
 */
import type { ReportColumn, ReportTable } from '@tally/core';
import { formatCell, isNumeric } from './format.js';
import { type Canvas, FONT, FONT_BOLD, FONT_ITALIC } from './layout.js';
import { drawText, winAnsi } from './text.js';

const SIZE = 8.5;
/** A table too wide for the page is set smaller, down to this, before any number would be cut. */
const MIN_SIZE = 6;
const TITLE_SIZE = 11;
const ROW_HEIGHT = 16;
const PAD = 5;
/** Text columns are not squeezed below this when numbers need room. */
const MIN_TEXT_WIDTH = 48;

interface Layout {
  size: number;
  widths: number[];
}

/** Each column's widest content (header or cell) at `size`. */
function contentWidths(canvas: Canvas, columns: ReportColumn[], cells: string[][], size: number): number[] {
  const { doc } = canvas;
  return columns.map((column, index) => {
    doc.font(FONT_BOLD).fontSize(size);
    let widest = doc.widthOfString(winAnsi(column.label));
    doc.font(FONT);
    for (const row of cells) widest = Math.max(widest, doc.widthOfString(winAnsi(row[index] as string)));
    return widest;
  });
}

/** A font size and column widths that fill the content box exactly. */
function layout(canvas: Canvas, columns: ReportColumn[], cells: string[][]): Layout {
  const isText = (index: number) => (columns[index] as ReportColumn).kind === 'text';
  const textCount = columns.filter((column) => column.kind === 'text').length;
  const sumOf = (widths: number[], text: boolean) => widths.reduce((sum, width, index) => sum + (isText(index) === text ? width : 0), 0);
  const atFull = contentWidths(canvas, columns, cells, SIZE);
  // Numbers must fit beside text columns at their narrowest: if not, the table is set smaller
  // (text widths scale with the font size; padding does not). Long text alone never shrinks it.
  const forNumbers = canvas.width - 2 * PAD * columns.length - MIN_TEXT_WIDTH * textCount;
  const numbersAtFull = sumOf(atFull, false);
  const size = numbersAtFull > 0 ? Math.max(MIN_SIZE, Math.min(SIZE, (SIZE * forNumbers) / numbersAtFull)) : SIZE;
  const natural = (size === SIZE ? atFull : contentWidths(canvas, columns, cells, size)).map((width) => width + 2 * PAD);
  const numbers = sumOf(natural, false);
  const textRoom = canvas.width - numbers;
  if (textCount > 0 && textRoom >= MIN_TEXT_WIDTH * textCount - 0.01) {
    // Text columns take what numbers leave, in proportion to their content.
    const texts = sumOf(natural, true);
    return { size, widths: natural.map((width, index) => (isText(index) ? (textRoom * width) / texts : width)) };
  }
  const scale = canvas.width / (numbers + sumOf(natural, true));
  return { size, widths: natural.map((width) => width * scale) };
}

/** One row of cells, each in its column's box, numbers right-aligned; text is vertically centred. */
function drawCells(canvas: Canvas, columns: ReportColumn[], texts: string[], { size, widths }: Layout): void {
  let x = canvas.left;
  const y = canvas.y + (ROW_HEIGHT - size) / 2;
  columns.forEach((column, index) => {
    const width = widths[index] as number;
    drawText(canvas.doc, texts[index] as string, x + PAD, y, width - 2 * PAD, isNumeric(column.kind) ? 'right' : 'left');
    x += width;
  });
  canvas.y += ROW_HEIGHT;
}

function drawHeader(canvas: Canvas, columns: ReportColumn[], layout: Layout): void {
  const { doc, colours } = canvas;
  doc.rect(canvas.left, canvas.y, canvas.width, ROW_HEIGHT).fill(colours.primary);
  doc.font(FONT_BOLD).fontSize(layout.size).fillColor(colours.onPrimary);
  drawCells(
    canvas,
    columns,
    columns.map((column) => column.label),
    layout,
  );
}

function drawTitle(canvas: Canvas, title: string, continued: boolean): void {
  const { doc, colours } = canvas;
  doc.font(FONT_BOLD).fontSize(TITLE_SIZE).fillColor(colours.text);
  drawText(doc, continued ? `${title} (continued)` : title, canvas.left, canvas.y, canvas.width);
  canvas.y += TITLE_SIZE + 7;
}

export function drawTable(canvas: Canvas, table: ReportTable, currency: string): void {
  const { doc, colours } = canvas;
  const cells = table.rows.map((row) => table.columns.map((column) => formatCell(column.kind, row[column.key] ?? null, currency)));
  const fitted = layout(canvas, table.columns, cells);
  // The title never stands alone at the foot of a page: it comes with the header and a first row.
  canvas.ensure(TITLE_SIZE + 7 + 2 * ROW_HEIGHT);
  drawTitle(canvas, table.title, false);
  drawHeader(canvas, table.columns, fitted);
  if (cells.length === 0) {
    doc.font(FONT_ITALIC).fontSize(fitted.size).fillColor(colours.muted);
    drawText(doc, 'No rows in this range', canvas.left + PAD, canvas.y + (ROW_HEIGHT - fitted.size) / 2, canvas.width - 2 * PAD);
    canvas.y += ROW_HEIGHT;
  }
  cells.forEach((row, index) => {
    if (ROW_HEIGHT > canvas.room) {
      canvas.newPage();
      drawTitle(canvas, table.title, true);
      drawHeader(canvas, table.columns, fitted);
    }
    if (index % 2 === 1) doc.rect(canvas.left, canvas.y, canvas.width, ROW_HEIGHT).fill(colours.zebra);
    doc.font(FONT).fontSize(fitted.size).fillColor(colours.text);
    drawCells(canvas, table.columns, row, fitted);
  });
  doc.moveTo(canvas.left, canvas.y).lineTo(canvas.right, canvas.y).lineWidth(0.75).strokeColor(colours.rule).stroke();
  canvas.y += 24;
}
