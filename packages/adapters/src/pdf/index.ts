export { type PdfBrand, type RenderReportPdfOptions, renderReportPdf } from './render.js';
