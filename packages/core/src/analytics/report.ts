/**
 * The shape every metric is turned into before it leaves Tally: titled tables and charts holding
 * exact values (bigint micros and minor units, basis points, Dates). The exporters (CSV here, PDF in
 * `@tally/adapters/pdf`) format those values; nothing upstream of them formats or rounds.
 */
import { TallyError, type TallyErrorIssue } from '../errors/index.js';
import { normalizeCurrency } from '../units/money.js';

export const REPORT_COLUMN_KINDS = ['text', 'integer', 'credits', 'money', 'usd_nano', 'percent_bps', 'date'] as const;

/**
 * What a column holds, which decides how it is written: `credits` are bigint micros, `money` bigint
 * minor units of the report's currency, `usd_nano` bigint nano-USD (provider costs), `percent_bps` basis points (bigint or safe integer),
 * `integer` a bigint or safe integer, `date` a Date (shown in UTC).
 */
export type ReportColumnKind = (typeof REPORT_COLUMN_KINDS)[number];

export interface ReportColumn {
  /** The row property this column reads. */
  key: string;
  /** The header people see. */
  label: string;
  kind: ReportColumnKind;
}

/** One cell; null is an empty cell. */
export type ReportCell = string | bigint | number | Date | null;

/** A row holds a cell (null when empty) for every column key and nothing else. */
export type ReportRow = Readonly<Record<string, ReportCell>>;

export interface ReportTable {
  title: string;
  columns: ReportColumn[];
  rows: ReportRow[];
}

export interface ReportChartSeries {
  name: string;
  /** One value per label, in the chart's unit: integers, credit micros or minor units. */
  values: bigint[];
}

export interface ReportChart {
  title: string;
  kind: 'bar' | 'line';
  /** `money` is in the report's currency. */
  unit: 'integer' | 'credits' | 'money';
  /** The x axis: one label per point (a day, a model, a tier). */
  labels: string[];
  series: ReportChartSeries[];
}

export interface Report {
  title: string;
  subtitle: string | null;
  generatedAt: Date;
  /** The reported range `[from, to)`, null for a report of a single instant. */
  range: { from: Date; to: Date } | null;
  /** ISO 4217 code of every `money` value. */
  currency: string;
  tables: ReportTable[];
  charts: ReportChart[];
}

type Path = ReadonlyArray<string | number>;

/** One error names many problems, but a report of a million bad rows is not listed in full. */
const MAX_ISSUES = 25;

/** Collects what is wrong so one VALIDATION error names every problem (up to `MAX_ISSUES`). */
export class ReportIssues {
  readonly list: TallyErrorIssue[] = [];

  add(path: Path, message: string): void {
    if (this.list.length < MAX_ISSUES) this.list.push({ path, message });
  }

  throwIfAny(what: string): void {
    const [first] = this.list;
    if (!first) return;
    const where = first.path.length > 0 ? `${first.path.join('.')} ` : '';
    const more = this.list.length > 1 ? ` (and ${this.list.length - 1} more)` : '';
    throw new TallyError('VALIDATION', `${what} is invalid: ${where}${first.message}${more}`, { issues: this.list });
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isValidDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());
const isSafeInteger = (value: unknown) => typeof value === 'bigint' || Number.isSafeInteger(value);

/** Why `value` cannot be a `kind` cell, or null when it can. */
function cellProblem(kind: ReportColumnKind, value: unknown): string | null {
  if (value === null) return null;
  switch (kind) {
    case 'text':
      return typeof value === 'string' ? null : 'must be a string or null';
    case 'integer':
    case 'percent_bps':
      return isSafeInteger(value) ? null : 'must be a bigint or a safe integer (no fractions), or null';
    case 'credits':
    case 'money':
    case 'usd_nano':
      return typeof value === 'bigint'
        ? null
        : `must be a bigint (${kind === 'credits' ? 'credit micros' : kind === 'money' ? 'minor units' : 'nano-USD'}) or null`;
    case 'date':
      return isValidDate(value) ? null : 'must be a valid Date or null';
  }
}

/** Why `column` cannot be a column (given the keys before it), or null when it can. */
function columnProblem(column: unknown, seen: ReadonlyMap<string, ReportColumn>): [string, string] | null {
  if (!isObject(column)) return ['', 'must be a column object'];
  const { key, label, kind } = column;
  if (typeof key !== 'string' || key === '') return ['key', 'must be a non-empty string'];
  if (seen.has(key)) return ['key', `"${key}" is used by another column`];
  if (typeof label !== 'string') return ['label', 'must be a string'];
  if (!(REPORT_COLUMN_KINDS as readonly unknown[]).includes(kind)) return ['kind', `must be one of ${REPORT_COLUMN_KINDS.join(', ')}`];
  return null;
}

/** Checks a table's columns; the ones that are usable are returned by key for the row checks. */
export function checkColumns(columns: unknown, path: Path, issues: ReportIssues): Map<string, ReportColumn> {
  const byKey = new Map<string, ReportColumn>();
  if (!Array.isArray(columns) || columns.length === 0) {
    issues.add(path, 'must be a non-empty array of columns');
    return byKey;
  }
  for (const [index, column] of columns.entries()) {
    const problem = columnProblem(column, byKey);
    if (problem) issues.add(problem[0] ? [...path, index, problem[0]] : [...path, index], problem[1]);
    else byKey.set(column.key, column);
  }
  return byKey;
}

/** Checks one row against its table's columns: a cell for every column, of the column's kind, and no other key. */
export function checkRow(columns: ReadonlyMap<string, ReportColumn>, row: unknown, path: Path, issues: ReportIssues): void {
  if (!isObject(row)) {
    issues.add(path, 'must be an object of cells');
    return;
  }
  for (const key of Object.keys(row)) {
    if (!columns.has(key)) issues.add([...path, key], 'is not a column of the table');
  }
  for (const [key, column] of columns) {
    if (!Object.hasOwn(row, key)) {
      issues.add([...path, key], 'is missing (use null for an empty cell)');
      continue;
    }
    const problem = cellProblem(column.kind, row[key]);
    if (problem) issues.add([...path, key], `${problem} in a ${column.kind} column`);
  }
}

function checkTable(table: unknown, path: Path, issues: ReportIssues): void {
  if (!isObject(table)) {
    issues.add(path, 'must be a table object');
    return;
  }
  if (typeof table.title !== 'string') issues.add([...path, 'title'], 'must be a string');
  const columns = checkColumns(table.columns, [...path, 'columns'], issues);
  if (!Array.isArray(table.rows)) {
    issues.add([...path, 'rows'], 'must be an array of rows');
    return;
  }
  // Rows are only comparable with a complete set of columns.
  if (columns.size !== (table.columns as unknown[]).length) return;
  for (const [index, row] of table.rows.entries()) checkRow(columns, row, [...path, 'rows', index], issues);
}

function checkSeries(series: unknown, labels: unknown, path: Path, issues: ReportIssues): void {
  if (!isObject(series)) {
    issues.add(path, 'must be a series object');
    return;
  }
  if (typeof series.name !== 'string') issues.add([...path, 'name'], 'must be a string');
  const { values } = series;
  if (!Array.isArray(values)) {
    issues.add([...path, 'values'], 'must be an array of bigints');
    return;
  }
  if (Array.isArray(labels) && values.length !== labels.length) {
    issues.add([...path, 'values'], `has ${values.length} values for ${labels.length} labels`);
  }
  const bad = values.findIndex((value) => typeof value !== 'bigint');
  if (bad >= 0) issues.add([...path, 'values', bad], 'must be a bigint');
}

function checkChart(chart: unknown, path: Path, issues: ReportIssues): void {
  if (!isObject(chart)) {
    issues.add(path, 'must be a chart object');
    return;
  }
  if (typeof chart.title !== 'string') issues.add([...path, 'title'], 'must be a string');
  if (chart.kind !== 'bar' && chart.kind !== 'line') issues.add([...path, 'kind'], 'must be bar or line');
  if (chart.unit !== 'integer' && chart.unit !== 'credits' && chart.unit !== 'money') {
    issues.add([...path, 'unit'], 'must be integer, credits or money');
  }
  const { labels, series } = chart;
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((label) => typeof label !== 'string')) {
    issues.add([...path, 'labels'], 'must be a non-empty array of strings');
  }
  if (!Array.isArray(series) || series.length === 0) {
    issues.add([...path, 'series'], 'must be a non-empty array');
    return;
  }
  for (const [index, one] of series.entries()) checkSeries(one, labels, [...path, 'series', index], issues);
}

/**
 * Checks a report before anything is written from it, so an export never stops half-way through:
 * `VALIDATION` naming each problem in `issues` (lengths that differ, a row key no column has, a
 * fraction in an integer column, a float where credits go, …).
 */
export function checkReport(report: Report): void {
  const issues = new ReportIssues();
  if (isObject(report)) checkReportFields(report, issues);
  else issues.add([], 'must be a report object');
  issues.throwIfAny('report');
}

function checkReportFields(report: Report, issues: ReportIssues): void {
  if (typeof report.title !== 'string' || report.title.trim() === '') issues.add(['title'], 'must not be blank');
  if (report.subtitle !== null && typeof report.subtitle !== 'string') issues.add(['subtitle'], 'must be a string or null');
  if (!isValidDate(report.generatedAt)) issues.add(['generatedAt'], 'must be a valid Date');
  const { range } = report;
  if (range !== null) {
    if (!isObject(range) || !isValidDate(range.from) || !isValidDate(range.to)) {
      issues.add(['range'], 'must be null or { from, to } with valid Dates');
    } else if (range.from.getTime() >= range.to.getTime()) {
      issues.add(['range'], 'must start before it ends');
    }
  }
  try {
    normalizeCurrency(report.currency);
  } catch {
    issues.add(['currency'], 'must be an ISO 4217 currency code');
  }
  if (Array.isArray(report.tables)) {
    for (const [index, table] of report.tables.entries()) checkTable(table, ['tables', index], issues);
  } else {
    issues.add(['tables'], 'must be an array');
  }
  if (Array.isArray(report.charts)) {
    for (const [index, chart] of report.charts.entries()) checkChart(chart, ['charts', index], issues);
  } else {
    issues.add(['charts'], 'must be an array');
  }
}

/** `checkReport` for one table on its own (e.g. before streaming it as CSV). */
export function checkReportTable(table: ReportTable): void {
  const issues = new ReportIssues();
  checkTable(table, [], issues);
  issues.throwIfAny('report table');
}
