/**
 * A report chart drawn as vectors (sharp at any zoom, searchable labels): a title, a legend, a y axis
 * with round ticks (computed on the exact values, see ticks.ts), grid lines, and either grouped bars
 * (one bar per series at each label) or one polyline with points per series.
 */
import { formatCredits, formatMoney, money, type ReportChart } from '@tally/core';
import { formatInteger } from './format.js';
import { type Canvas, FONT, FONT_BOLD } from './layout.js';
import { drawText, fitText } from './text.js';
import { type AxisTicks, niceTicks } from './ticks.js';

const TITLE_SIZE = 11;
const LABEL_SIZE = 7.5;
const PLOT_HEIGHT = 160;
const LEGEND_LINE = 13;
const SWATCH = 8;
const MAX_LEGEND_NAME = 160;
/** Share of a label's slot the bars take; the rest is the gap between groups. */
const GROUP_FILL = 0.72;
/** Resolution of the value → position map: ample for a page, exact before it. */
const POSITION_SCALE = 100_000n;

/** The y-axis text for a tick, as exact as the step it sits on. */
function tickLabel(chart: ReportChart, ticks: AxisTicks, currency: string): (value: bigint) => string {
  switch (chart.unit) {
    case 'integer':
      return formatInteger;
    case 'credits': {
      // Steps are at least 0.01 credits, so two decimals always show a tick exactly; whole steps need none.
      const digits = ticks.step % 1_000_000n === 0n ? 0 : ticks.step % 100_000n === 0n ? 1 : 2;
      return (value) => formatCredits(value, { maxFractionDigits: digits });
    }
    case 'money':
      return (value) => formatMoney(money(currency, value), 'en-US');
  }
}

function unitCaption(chart: ReportChart, currency: string): string {
  return chart.unit === 'credits' ? 'credits' : chart.unit === 'money' ? currency : '';
}

function legendLines(canvas: Canvas, chart: ReportChart): Array<Array<{ name: string; colour: string; x: number }>> {
  const { doc, colours } = canvas;
  doc.font(FONT).fontSize(LABEL_SIZE);
  const lines: Array<Array<{ name: string; colour: string; x: number }>> = [[]];
  let x = canvas.left;
  chart.series.forEach((series, index) => {
    const nameWidth = Math.min(doc.widthOfString(series.name), MAX_LEGEND_NAME);
    const itemWidth = SWATCH + 4 + nameWidth + 14;
    if (x + itemWidth > canvas.right && x > canvas.left) {
      lines.push([]);
      x = canvas.left;
    }
    (lines.at(-1) as Array<{ name: string; colour: string; x: number }>).push({
      name: series.name,
      colour: colours.series[index % colours.series.length] as string,
      x,
    });
    x += itemWidth;
  });
  return lines;
}

export function drawChart(canvas: Canvas, chart: ReportChart, currency: string): void {
  const { doc, colours } = canvas;
  const legend = legendLines(canvas, chart);
  const height = TITLE_SIZE + 8 + legend.length * LEGEND_LINE + 4 + LABEL_SIZE + 8 + PLOT_HEIGHT + 20;
  canvas.ensure(height);

  doc.font(FONT_BOLD).fontSize(TITLE_SIZE).fillColor(colours.text);
  drawText(doc, chart.title, canvas.left, canvas.y, canvas.width);
  canvas.y += TITLE_SIZE + 8;

  doc.font(FONT).fontSize(LABEL_SIZE);
  for (const line of legend) {
    for (const item of line) {
      doc.rect(item.x, canvas.y, SWATCH, SWATCH).fill(item.colour);
      doc.fillColor(colours.text);
      drawText(doc, item.name, item.x + SWATCH + 4, canvas.y + 0.5, MAX_LEGEND_NAME);
    }
    canvas.y += LEGEND_LINE;
  }
  canvas.y += 4;
  // The unit over the axis labels ("credits", "USD"); counts need none.
  const caption = unitCaption(chart, currency);
  if (caption) {
    doc.fillColor(colours.muted);
    drawText(doc, caption, canvas.left, canvas.y, canvas.width / 2);
  }
  canvas.y += LABEL_SIZE + 8;

  let low = 0n;
  let high = 0n;
  for (const value of chart.series.flatMap((series) => series.values)) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  // Credits ticks stop at 0.01: the precision every credit amount in Tally is shown with.
  const ticks = niceTicks(low, high, { minStep: chart.unit === 'credits' ? 10_000n : 1n });
  const label = tickLabel(chart, ticks, currency);
  const tickTexts = ticks.ticks.map(label);
  const axisWidth = Math.min(Math.max(...tickTexts.map((text) => doc.widthOfString(text))) + 6, canvas.width / 4);

  const plot = { left: canvas.left + axisWidth, right: canvas.right, top: canvas.y, bottom: canvas.y + PLOT_HEIGHT };
  const span = ticks.max - ticks.min;
  const yOf = (value: bigint) =>
    plot.bottom - (Number(((value - ticks.min) * POSITION_SCALE) / span) / Number(POSITION_SCALE)) * PLOT_HEIGHT;

  ticks.ticks.forEach((tick, index) => {
    const y = yOf(tick);
    doc
      .moveTo(plot.left, y)
      .lineTo(plot.right, y)
      .lineWidth(tick === 0n ? 0.9 : 0.4)
      .strokeColor(tick === 0n ? colours.muted : colours.rule)
      .stroke();
    doc.fillColor(colours.muted);
    drawText(doc, tickTexts[index] as string, canvas.left, y - LABEL_SIZE / 2, axisWidth - 6, 'right');
  });

  const count = chart.labels.length;
  const slot = (plot.right - plot.left) / count;
  const zero = yOf(0n);
  if (chart.kind === 'bar') {
    const barWidth = (slot * GROUP_FILL) / chart.series.length;
    chart.series.forEach((series, seriesIndex) => {
      doc.fillColor(colours.series[seriesIndex % colours.series.length] as string);
      series.values.forEach((value, index) => {
        if (value === 0n) return;
        const x = plot.left + index * slot + (slot * (1 - GROUP_FILL)) / 2 + seriesIndex * barWidth;
        const y = yOf(value);
        doc.rect(x, Math.min(y, zero), barWidth, Math.abs(zero - y)).fill();
      });
    });
  } else {
    chart.series.forEach((series, seriesIndex) => {
      const colour = colours.series[seriesIndex % colours.series.length] as string;
      const points = series.values.map((value, index) => [plot.left + (index + 0.5) * slot, yOf(value)] as const);
      const [first, ...rest] = points;
      if (first && rest.length > 0) {
        doc.moveTo(first[0], first[1]);
        for (const [x, y] of rest) doc.lineTo(x, y);
        doc.lineWidth(1.5).lineJoin('round').strokeColor(colour).stroke();
      }
      for (const [x, y] of points) doc.circle(x, y, 2.2).fill(colour);
    });
  }

  // Every k-th label, k chosen so the widest fits its share of the axis.
  doc.font(FONT).fontSize(LABEL_SIZE).fillColor(colours.muted);
  const widest = Math.max(...chart.labels.map((text) => doc.widthOfString(text)));
  const every = Math.max(1, Math.min(count, Math.ceil((widest + 4) / slot)));
  let free = canvas.left;
  chart.labels.forEach((text, index) => {
    if (index % every !== 0) return;
    const fitted = fitText(doc, text, Math.min(slot * every, plot.right - plot.left) - 4);
    const width = doc.widthOfString(fitted);
    // Centred under its point, but kept on the page at the ends of the axis and off its neighbour.
    const left = Math.min(Math.max(plot.left + (index + 0.5) * slot - width / 2, canvas.left), canvas.right - width);
    if (left < free) return;
    drawText(doc, fitted, left, plot.bottom + 5, width);
    free = left + width + 4;
  });
  canvas.y = plot.bottom + 20 + 16;
}
