export {
  createGraphTransport,
  GRAPH_MAX_ATTACHMENT_BYTES,
  GRAPH_MAX_HEADERS,
  type GraphTransport,
  type GraphTransportOptions,
} from './graph.js';
export { DEDUPE_HEADER } from './outgoing.js';
export {
  createSmtpTransport,
  type SmtpServerOptions,
  type SmtpTransport,
  type SmtpTransporterOptions,
  type SmtpTransportOptions,
} from './smtp.js';
