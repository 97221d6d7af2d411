export { type CsvOptions, csvStream, reportTableCsv } from './csv.js';
export { METRIC_TITLES, type MetricReportOptions, metricReport } from './metric-report.js';
export * from './metrics.js';
export { type AnalyticsSnapshot, computeMetric, readAnalyticsSnapshot } from './oracle.js';
export {
  checkReport,
  checkReportTable,
  REPORT_COLUMN_KINDS,
  type Report,
  type ReportCell,
  type ReportChart,
  type ReportChartSeries,
  type ReportColumn,
  type ReportColumnKind,
  type ReportRow,
  type ReportTable,
} from './report.js';
export { decodeMetricResult, metricToWire, type ToWire, type WireMetricResult } from './wire.js';
