/**
 * Text on the page. The PDF's fonts are the standard Helvetica faces every viewer has (no font files,
 * no network), which encode WinAnsi only: Latin-1 plus a few typographic marks. Anything else would
 * come out as garbage glyphs, so it is shown as `?`; control characters become spaces. Every piece of
 * text is one line, cut with an ellipsis where its box ends, so nothing overflows into a neighbour.
 */
import type PDFDocument from 'pdfkit';

type Doc = InstanceType<typeof PDFDocument>;

// The characters WinAnsi adds to Latin-1 (pdfkit's own map): ƒ – — ‘ ’ ‚ “ ” „ † ‡ • … € ‰ ‹ › ˆ ™ Œ œ ˜ Š š Ÿ Ž ž
const WIN_ANSI_EXTRA = new Set([
  402, 8211, 8212, 8216, 8217, 8218, 8220, 8221, 8222, 8224, 8225, 8226, 8230, 8364, 8240, 8249, 8250, 710, 8482, 338, 339, 732, 352, 353,
  376, 381, 382,
]);
const ELLIPSIS = '…';
/** Widths are sums of floats: a box made exactly as wide as its text must still hold it. */
const SLACK = 0.01;

/** `text` in the characters the standard fonts can show. */
export function winAnsi(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0) as number;
    if ((code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(code)) out += char;
    else if (code < 0xa0) out += ' ';
    else out += '?';
  }
  return out;
}

/** The longest start of `text` (with an ellipsis when cut) that is at most `width` wide in the current font. */
export function fitText(doc: Doc, text: string, width: number): string {
  const clean = winAnsi(text);
  const limit = width + SLACK;
  if (doc.widthOfString(clean) <= limit) return clean;
  const chars = [...clean];
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (doc.widthOfString(chars.slice(0, middle).join('') + ELLIPSIS) <= limit) low = middle;
    else high = middle - 1;
  }
  if (low === 0) return doc.widthOfString(ELLIPSIS) <= limit ? ELLIPSIS : '';
  return chars.slice(0, low).join('').trimEnd() + ELLIPSIS;
}

export type Align = 'left' | 'right' | 'center';

/**
 * Writes one line of text inside `[x, x + width]` at `y` (the top of the line). Positions are ours:
 * pdfkit's own wrapping is off, so it never starts a page behind the layout's back.
 */
export function drawText(doc: Doc, text: string, x: number, y: number, width: number, align: Align = 'left'): void {
  const fitted = fitText(doc, text, width);
  if (!fitted) return;
  const free = width - doc.widthOfString(fitted);
  const left = align === 'right' ? x + free : align === 'center' ? x + free / 2 : x;
  doc.text(fitted, left, y, { lineBreak: false });
}
