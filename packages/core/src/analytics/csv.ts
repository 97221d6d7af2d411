/**
 * CSV export of report tables, streamed: rows are read from an (async) iterable only as fast as the
 * consumer reads bytes, so a million-row export never sits in memory as one string. Web Streams and
 * TextEncoder only, so it runs on Node, Deno, Bun, workers and browsers alike.
 *
 * Format (RFC 4180): CRLF line ends, a header row of column labels, a field holding `,` `"` CR or LF
 * in double quotes with quotes doubled, UTF-8 (a byte order mark only when asked for, for Excel).
 *
 * Values are machine-readable and exact, never localised: credits as decimal credits ("74.25"),
 * money as decimal major units ("49.00"), basis points as a percent ("12.5" for 1250 bps), dates as
 * ISO 8601 UTC, integers in full.
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell starting with `=`, `+`, `-`,
 * `@`, TAB or CR as a formula, so a customer name like `=HYPERLINK(…)` could run in the operator's
 * spreadsheet. Every text cell and header starting with one of those gets a leading `'`, which
 * spreadsheets read as "this is text". Number columns are never prefixed (they are written by Tally,
 * not typed by users), so "-5" stays the number -5.
 */
import { TallyError } from '../errors/index.js';
import { formatDecimal } from '../units/decimal.js';
import { currencyExponent } from '../units/money.js';
import {
  checkColumns,
  checkReportTable,
  checkRow,
  type ReportCell,
  type ReportColumn,
  ReportIssues,
  type ReportRow,
  type ReportTable,
} from './report.js';

export interface CsvOptions {
  /**
   * ISO 4217 code of the `money` columns (a report's `currency`); required when there is one.
   * There is no locale option on purpose: CSV is for machines, and "1.234,50" is not a number to them.
   */
  currency?: string;
  /** Start with a UTF-8 byte order mark, so Excel does not read the file as Windows-1252. Default false. */
  bom?: boolean;
}

/** Enough text per chunk that encoding and enqueueing cost little next to formatting. */
const CHUNK_CHARS = 16_384;
const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;
const CREDIT_SCALE = 6;

function field(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A text cell as written: made inert for spreadsheets, then quoted as needed. */
function textField(text: string): string {
  return field(FORMULA_START.test(text) ? `'${text}` : text);
}

type CellWriter = (value: ReportCell) => string;

function cellWriter(column: ReportColumn, moneyExponent: number): CellWriter {
  switch (column.kind) {
    case 'text':
      return (value) => textField(value as string);
    case 'integer':
      return (value) => String(value);
    case 'credits':
      return (value) => formatDecimal(value as bigint, CREDIT_SCALE, { minFractionDigits: 2 });
    case 'money':
      return (value) => formatDecimal(value as bigint, moneyExponent, { minFractionDigits: moneyExponent });
    case 'usd_nano':
      return (value) => formatDecimal(value as bigint, 9, { minFractionDigits: 2 });
    case 'percent_bps':
      return (value) => formatDecimal(BigInt(value as bigint | number), 2);
    case 'date':
      return (value) => (value as Date).toISOString();
  }
}

function prepare(columns: readonly ReportColumn[], options: CsvOptions): { header: string; line: (row: ReportRow) => string } {
  let exponent = 0;
  if (columns.some((column) => column.kind === 'money')) {
    if (options.currency === undefined) {
      throw new TallyError('VALIDATION', 'CSV options.currency is required for a table with money columns', {
        details: { field: 'currency' },
      });
    }
    exponent = currencyExponent(options.currency);
  }
  const writers = columns.map((column) => cellWriter(column, exponent));
  const keys = columns.map((column) => column.key);
  // A lone empty field would be an empty line, which many readers skip: quote it.
  const empty = columns.length === 1 ? '""' : '';
  const header = `${columns.map((column) => textField(column.label) || empty).join(',')}\r\n`;
  const line = (row: ReportRow) => {
    let text = '';
    for (let index = 0; index < keys.length; index++) {
      const value = row[keys[index] as string] ?? null;
      if (index > 0) text += ',';
      text += value === null ? empty : (writers[index] as CellWriter)(value) || empty;
    }
    return `${text}\r\n`;
  };
  return { header, line };
}

type Rows = Iterable<ReportRow> | AsyncIterable<ReportRow>;

function stream(columns: readonly ReportColumn[], rows: Rows, options: CsvOptions, checkRows: boolean): ReadableStream<Uint8Array> {
  const { header, line } = prepare(columns, options);
  const byKey = new Map(columns.map((column) => [column.key, column]));
  const encoder = new TextEncoder();
  let iterator: Iterator<ReportRow> | AsyncIterator<ReportRow> | undefined;
  let index = 0;
  let pending = (options.bom ? '\uFEFF' : '') + header;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Opened on the first read, so nothing is computed for a stream nobody reads.
        iterator ??= Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : rows[Symbol.iterator]();
        while (pending.length < CHUNK_CHARS) {
          const next = await iterator.next();
          if (next.done) {
            if (pending) controller.enqueue(encoder.encode(pending));
            pending = '';
            controller.close();
            return;
          }
          if (checkRows) {
            const issues = new ReportIssues();
            checkRow(byKey, next.value, ['rows', index], issues);
            if (issues.list.length > 0) {
              await iterator.return?.();
              issues.throwIfAny('CSV row');
            }
          }
          pending += line(next.value);
          index++;
        }
        controller.enqueue(encoder.encode(pending));
        pending = '';
      },
      async cancel() {
        // Lets the source close what it holds open (a database cursor, a file).
        await iterator?.return?.();
      },
    },
    // Nothing is read ahead of the consumer: backpressure reaches the source.
    { highWaterMark: 0 },
  );
}

/**
 * Streams `rows` as CSV under a header of the columns' labels. The columns are checked now
 * (`VALIDATION`); each row is checked as it is read, and a bad one ends the stream with a
 * `VALIDATION` error. Cancelling the stream calls the iterator's `return()`.
 */
export function csvStream(columns: readonly ReportColumn[], rows: Rows, options: CsvOptions = {}): ReadableStream<Uint8Array> {
  const issues = new ReportIssues();
  const byKey = checkColumns(columns, ['columns'], issues);
  if (typeof rows !== 'object' || rows === null || !(Symbol.asyncIterator in rows || Symbol.iterator in rows)) {
    issues.add(['rows'], 'must be an iterable or async iterable of rows');
  }
  issues.throwIfAny('CSV export');
  return stream([...byKey.values()], rows, options, true);
}

/** A report table as a CSV stream; the whole table is checked first, so a bad one throws before any byte. */
export function reportTableCsv(table: ReportTable, options: CsvOptions = {}): ReadableStream<Uint8Array> {
  checkReportTable(table);
  return stream(table.columns, table.rows, options, false);
}
