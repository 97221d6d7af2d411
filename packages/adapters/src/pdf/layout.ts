/** The page a report is laid out on: A4 portrait, a content box, a cursor and the colours. */
import type PDFDocument from 'pdfkit';

export type Doc = InstanceType<typeof PDFDocument>;

export const FONT = 'Helvetica';
export const FONT_BOLD = 'Helvetica-Bold';
export const FONT_ITALIC = 'Helvetica-Oblique';

/** A4 in points, with room at the bottom for the footer. */
export const PAGE = { size: 'A4', width: 595.28, height: 841.89, margin: { top: 50, bottom: 60, left: 48, right: 48 } } as const;

export interface Theme {
  primary: string;
  /** Text on `primary`: white or near-black, whichever reads better. */
  onPrimary: string;
  text: string;
  muted: string;
  rule: string;
  zebra: string;
  /** Series colours in legend order; the first is the brand's. */
  series: readonly string[];
}

/** Distinct, colour-blind-friendlier hues after the brand colour. */
const SERIES = ['#f59e0b', '#10b981', '#ef4444', '#0ea5e9', '#8b5cf6', '#ec4899', '#64748b'];

function rgb(hex: string): [number, number, number] {
  const digits = hex.length === 4 ? [...hex.slice(1)].map((digit) => digit + digit).join('') : hex.slice(1);
  return [0, 2, 4].map((at) => Number.parseInt(digits.slice(at, at + 2), 16)) as [number, number, number];
}

/** Perceived brightness (ITU-R BT.601 weights), 0–255: light colours get dark text. */
const brightness = ([r, g, b]: [number, number, number]) => (r * 299 + g * 587 + b * 114) / 1000;

export function theme(primary: string): Theme {
  const expanded = `#${rgb(primary)
    .map((part) => part.toString(16).padStart(2, '0'))
    .join('')}`;
  return {
    primary: expanded,
    onPrimary: brightness(rgb(expanded)) > 160 ? '#111827' : '#ffffff',
    text: '#111827',
    muted: '#6b7280',
    rule: '#d1d5db',
    zebra: '#f3f4f6',
    series: [expanded, ...SERIES.filter((colour) => colour !== expanded)],
  };
}

/** A cursor over the content box of the current page. */
export class Canvas {
  readonly left = PAGE.margin.left;
  readonly width = PAGE.width - PAGE.margin.left - PAGE.margin.right;
  readonly top = PAGE.margin.top;
  readonly bottom = PAGE.height - PAGE.margin.bottom;
  y: number = PAGE.margin.top;

  constructor(
    readonly doc: Doc,
    readonly colours: Theme,
  ) {}

  get right(): number {
    return this.left + this.width;
  }

  /** Space left on this page below the cursor. */
  get room(): number {
    return this.bottom - this.y;
  }

  newPage(): void {
    this.doc.addPage();
    this.y = this.top;
  }

  /** Starts a new page unless `height` fits below the cursor (a block taller than a page gets a page of its own). */
  ensure(height: number): void {
    if (height > this.room && this.y > this.top) this.newPage();
  }
}
