export { type CsvOptions, csvStream, reportTableCsv } from './csv.js';
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
