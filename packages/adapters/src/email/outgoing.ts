/**
 * Checks an `OutgoingEmail` before any transport touches the network, so a bad mail fails with
 * `VALIDATION` (and is logged as such) instead of as a provider error, and no header can smuggle a
 * line break into the message.
 */
import { type EmailAddress, type OutgoingEmail, TallyError } from '@tally/core';

/** The header every transport adds, carrying `OutgoingEmail.dedupeKey`. */
export const DEDUPE_HEADER = 'X-Tally-Dedupe';

/** Headers the transport writes itself from the mail's fields; a caller may not set them. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  DEDUPE_HEADER.toLowerCase(),
]);

/** RFC 5322 field name: printable US-ASCII except the colon. */
const HEADER_NAME = /^[!-9;-~]+$/;
/** Carriage return, line feed or NUL: would end the header (or the message) early. */
const LINE_BREAK = /[\r\n\0]/;
/** `local@domain`, no spaces, brackets or separators that would change how the address header reads. */
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
/** `type/subtype` (RFC 2045 tokens), optionally with `; name=value` parameters on the same line. */
const CONTENT_TYPE =
  /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?: *; *[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\\r\n]*"))*$/;

/** A name to save the file under: 1–255 characters, not blank, no path separator and no control character. */
function isFileName(name: unknown): boolean {
  if (typeof name !== 'string' || name.length > 255 || name.trim() === '' || name === '.' || name === '..') return false;
  for (const char of name) {
    const code = char.codePointAt(0) as number;
    if (code < 0x20 || code === 0x7f || char === '/' || char === '\\') return false;
  }
  return true;
}

function invalid(transport: string, field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${transport}: ${field} ${message}`, { details: { field, transport } });
}

function checkAddress(transport: string, field: 'from' | 'to', value: EmailAddress): void {
  if (typeof value !== 'object' || value === null) throw invalid(transport, field, 'must be { address, name }');
  if (typeof value.address !== 'string' || value.address.length > 320 || !ADDRESS.test(value.address)) {
    throw invalid(transport, `${field}.address`, 'must be an email address');
  }
  if (value.name !== null && (typeof value.name !== 'string' || LINE_BREAK.test(value.name))) {
    throw invalid(transport, `${field}.name`, 'must be null or a string without line breaks');
  }
}

function checkText(transport: string, field: string, value: unknown, singleLine: boolean): void {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(transport, field, 'must be a non-empty string');
  if (singleLine && LINE_BREAK.test(value)) throw invalid(transport, field, 'must not contain line breaks');
}

/** Throws `VALIDATION` naming the first bad field; returns nothing and changes nothing. */
export function checkOutgoingEmail(transport: string, email: OutgoingEmail): void {
  if (typeof email !== 'object' || email === null) throw invalid(transport, 'email', 'must be an object');
  checkAddress(transport, 'from', email.from);
  checkAddress(transport, 'to', email.to);
  checkText(transport, 'subject', email.subject, true);
  checkText(transport, 'html', email.html, false);
  checkText(transport, 'text', email.text, false);
  checkText(transport, 'dedupeKey', email.dedupeKey, true);
  if (typeof email.headers !== 'object' || email.headers === null || Array.isArray(email.headers)) {
    throw invalid(transport, 'headers', 'must be an object of header names to values');
  }
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(email.headers)) {
    const field = `headers.${name}`;
    if (!HEADER_NAME.test(name)) throw invalid(transport, field, 'is not a valid header name');
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw invalid(transport, field, 'is set by the transport itself');
    if (seen.has(lower)) throw invalid(transport, field, 'is given twice (header names are case-insensitive)');
    seen.add(lower);
    if (typeof value !== 'string' || LINE_BREAK.test(value)) throw invalid(transport, field, 'must be a string without line breaks');
  }
  checkAttachments(transport, email.attachments);
}

function checkAttachments(transport: string, attachments: unknown): void {
  if (attachments === undefined) return;
  if (!Array.isArray(attachments)) throw invalid(transport, 'attachments', 'must be an array of { filename, contentType, content }');
  for (const [index, attachment] of attachments.entries()) {
    const field = `attachments[${index}]`;
    if (typeof attachment !== 'object' || attachment === null)
      throw invalid(transport, field, 'must be { filename, contentType, content }');
    const { filename, contentType, content } = attachment as Record<string, unknown>;
    if (!isFileName(filename)) {
      throw invalid(transport, `${field}.filename`, 'must be a file name without path separators or control characters');
    }
    if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) {
      throw invalid(transport, `${field}.contentType`, 'must be a MIME type such as application/pdf');
    }
    if (!(content instanceof Uint8Array)) throw invalid(transport, `${field}.content`, 'must be a Uint8Array');
  }
}

/** The attachments' total size in bytes. */
export const attachmentBytes = (email: OutgoingEmail): number =>
  (email.attachments ?? []).reduce((total, attachment) => total + attachment.content.byteLength, 0);
