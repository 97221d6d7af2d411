/**
 * The SMTP transport, on nodemailer. Each mail goes out as multipart/alternative (plain text first,
 * HTML last, the part clients prefer), inside multipart/mixed with its attachments when it has any
 * (a report's PDF or CSV files), with the mail's own headers as given — RFC 8058
 * `List-Unsubscribe: <https://…>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` reach the
 * mailbox provider unchanged — plus `X-Tally-Dedupe: <dedupeKey>`.
 *
 * No retries here: a failed send throws and the outbox tries again later, so nothing is lost while
 * the server is down. What the error says decides how the notifier logs it: a temporary refusal (4xx)
 * or a network failure is `PROVIDER_UNAVAILABLE`, a permanent refusal (5xx) `PROVIDER_REJECTED`.
 */
import { type EmailAddress, type EmailSendResult, type EmailTransport, type OutgoingEmail, TallyError } from '@tally/core';
import nodemailer, { type NodemailerError, type SendMailOptions, type Transporter } from 'nodemailer';
import { checkOutgoingEmail, DEDUPE_HEADER } from './outgoing.js';

/** Where to connect; nodemailer builds and owns the connection (or pool). */
export interface SmtpServerOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Default: true on port 465, false elsewhere (STARTTLS when offered). */
  secure?: boolean;
  /** Refuse to send unless the server upgrades the connection with STARTTLS. */
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
  /** Keep a few connections open and reuse them (for many mails in a row). Default false. */
  pool?: boolean;
  /** Default nodemailer's (2 min). */
  connectionTimeoutMs?: number;
  /** Wait for the server's greeting. Default nodemailer's (30 s). */
  greetingTimeoutMs?: number;
  /** Idle socket. Default nodemailer's (10 min). */
  socketTimeoutMs?: number;
}

/** A nodemailer transporter you built yourself (DKIM, a proxy, another nodemailer transport). */
export interface SmtpTransporterOptions {
  transporter: Transporter;
}

export type SmtpTransportOptions = SmtpServerOptions | SmtpTransporterOptions;

export interface SmtpTransport extends EmailTransport {
  readonly name: 'smtp';
  /**
   * Closes the connections of a transporter this transport created. A transporter passed in
   * `{ transporter }` belongs to the caller and stays open.
   */
  close(): Promise<void>;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

function invalid(message: string, field: string): TallyError {
  return new TallyError('VALIDATION', `SMTP transport: ${message}`, { details: { field, transport: 'smtp' } });
}

function checkServerOptions(options: SmtpServerOptions): void {
  const { host, port } = options;
  if (typeof host !== 'string' || !(HOSTNAME.test(host) || (host.includes(':') && IPV6.test(host)))) {
    throw invalid('host must be a host name or an IP address', 'host');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid('port must be a whole number from 1 to 65535', 'port');
  for (const key of ['secure', 'requireTLS', 'pool'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw invalid(`${key} must be true or false`, key);
  }
  for (const key of ['connectionTimeoutMs', 'greetingTimeoutMs', 'socketTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw invalid(`${key} must be a positive whole number`, key);
  }
  if (options.auth !== undefined) {
    const { user, pass } = options.auth ?? {};
    if (typeof user !== 'string' || user === '' || typeof pass !== 'string' || pass === '') {
      throw invalid('auth needs a non-empty user and pass', 'auth');
    }
  }
}

function createTransporter(options: SmtpServerOptions): Transporter {
  const common = {
    host: options.host,
    port: options.port,
    secure: options.secure ?? options.port === 465,
    ...(options.requireTLS === undefined ? {} : { requireTLS: options.requireTLS }),
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
    ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
    ...(options.greetingTimeoutMs === undefined ? {} : { greetingTimeout: options.greetingTimeoutMs }),
    ...(options.socketTimeoutMs === undefined ? {} : { socketTimeout: options.socketTimeoutMs }),
  };
  return options.pool ? nodemailer.createTransport({ ...common, pool: true }) : nodemailer.createTransport(common);
}

/** Errors that name no SMTP reply but are the caller's setup, not the server's state: retrying will not help. */
const SETUP_ERRORS = new Set(['EENVELOPE', 'ECONFIG', 'ENOAUTH', 'EAUTH', 'EREQUIRETLS', 'EMAXRECIPIENTS']);

/** A nodemailer error as a TallyError; never rethrows the raw error. */
function smtpError(error: unknown): TallyError {
  const raw = (typeof error === 'object' && error !== null ? error : {}) as NodemailerError;
  const responseCode = typeof raw.responseCode === 'number' ? raw.responseCode : null;
  const smtpCode = typeof raw.code === 'string' ? raw.code : null;
  // RFC 5321: 5yz is permanent, 4yz transient; 503 (bad sequence) only says the session was in the wrong state.
  const permanent =
    responseCode !== null
      ? responseCode >= 500 && responseCode < 600 && responseCode !== 503
      : smtpCode !== null && SETUP_ERRORS.has(smtpCode);
  const said = raw.response ?? (error instanceof Error ? error.message : String(error));
  const details = {
    transport: 'smtp',
    responseCode,
    smtpCode,
    command: raw.command ?? null,
    ...(raw.originalCode ? { networkCode: raw.originalCode } : {}),
  };
  return permanent
    ? new TallyError('PROVIDER_REJECTED', `SMTP server refused the mail: ${said}`, { cause: error, details })
    : new TallyError('PROVIDER_UNAVAILABLE', `SMTP send failed, try again later: ${said}`, { cause: error, details });
}

function mailbox(address: EmailAddress): string | { name: string; address: string } {
  return address.name ? { name: address.name, address: address.address } : address.address;
}

/** Sends through an SMTP server (or the nodemailer transporter you pass). Bad options: `VALIDATION`. */
export function createSmtpTransport(options: SmtpTransportOptions): SmtpTransport {
  if (typeof options !== 'object' || options === null) throw invalid('options are required', 'options');
  let transporter: Transporter;
  let owned: boolean;
  if ('transporter' in options) {
    if (typeof options.transporter?.sendMail !== 'function') throw invalid('transporter must be a nodemailer transporter', 'transporter');
    transporter = options.transporter;
    owned = false;
  } else {
    checkServerOptions(options);
    transporter = createTransporter(options);
    owned = true;
  }

  return {
    name: 'smtp',
    async send(email: OutgoingEmail): Promise<EmailSendResult> {
      checkOutgoingEmail('smtp', email);
      const message: SendMailOptions = {
        from: mailbox(email.from),
        to: mailbox(email.to),
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { ...email.headers, [DEDUPE_HEADER]: email.dedupeKey },
        // Bytes only, never a path or URL: nodemailer base64-encodes each file into its own MIME part.
        ...(email.attachments?.length
          ? {
              attachments: email.attachments.map((attachment) => ({
                filename: attachment.filename,
                contentType: attachment.contentType,
                content: Buffer.from(attachment.content.buffer, attachment.content.byteOffset, attachment.content.byteLength),
                contentDisposition: 'attachment' as const,
              })),
            }
          : {}),
        // Rendered mails never reference files or URLs for nodemailer to read.
        disableFileAccess: true,
        disableUrlAccess: true,
      };
      let info: { messageId?: unknown };
      try {
        info = await transporter.sendMail(message);
      } catch (error) {
        throw smtpError(error);
      }
      return { messageId: typeof info.messageId === 'string' && info.messageId !== '' ? info.messageId : null };
    },
    async close() {
      if (owned) transporter.close();
    },
  };
}
