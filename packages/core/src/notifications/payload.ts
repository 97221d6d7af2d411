/**
 * The payload of an `email.send` outbox message: which template, its data and the mail's dedupe key,
 * and for an admin mail its recipient and the report its attachment is rendered from. Outbox payloads
 * are JSON text, and template data holds bigints (exact amounts) and Dates, which JSON cannot carry:
 * they are written as tagged objects (`{"$bigint":"123"}`, `{"$date":"…Z"}`) and read back as the
 * same values, so a mail sent after a retry shows exactly what the first try would.
 */
import type { Report } from '../analytics/report.js';
import { TallyError } from '../errors/index.js';
import { checkAddress, checkLocale } from './checks.js';
import {
  type AdminEmailTemplateId,
  EMAIL_TEMPLATES,
  type EmailAddress,
  type EmailTemplateData,
  type EmailTemplateId,
  isAdminEmailTemplate,
} from './email.js';

/** An admin mail names its recipient itself (there is no customer to ask `recipients` about). */
export interface AdminMailPayload {
  to: EmailAddress;
  /** Null: the notifier's locale. */
  locale: string | null;
  attach: 'pdf' | 'csv' | 'none';
  /** What the attachment shows; null when nothing is attached. */
  report: Report | null;
}

/** What an `email.send` message carries. */
export interface EmailSendPayload<T extends EmailTemplateId = EmailTemplateId> {
  template: T;
  data: EmailTemplateData[T];
  /** The logical mail's key (without the outbox's `email:` prefix): the delivery log and transports use it. */
  key: string;
  /** For an admin template only. */
  admin?: AdminMailPayload;
}

const VERSION = 1;
const BIGINT = '$bigint';
const DATE = '$date';
const INTEGER = /^-?(0|[1-9]\d*)$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Template data is a few fields deep; anything deeper is not ours. */
const MAX_DEPTH = 8;

function invalid(message: string): TallyError {
  return new TallyError('VALIDATION', `email payload ${message}`);
}

const isPlainObject = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

function encodeValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw invalid('is nested too deeply');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid('holds a number that is not finite');
    return value;
  }
  if (typeof value === 'bigint') return { [BIGINT]: value.toString() };
  if (value instanceof Date) {
    if (!Number.isFinite(value.getTime())) throw invalid('holds an invalid date');
    return { [DATE]: value.toISOString() };
  }
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, depth + 1));
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // A key starting with `$` would read back as a tag: template data has none.
      if (key.startsWith('$')) throw invalid(`has a key "${key}" starting with "$"`);
      if (item !== undefined) out[key] = encodeValue(item, depth + 1);
    }
    return out;
  }
  throw invalid(`holds a ${typeof value}, which it cannot carry`);
}

function decodeValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw invalid('is nested too deeply');
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, depth + 1));
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first && first[0].startsWith('$')) {
    const [tag, text] = first;
    if (tag === BIGINT && typeof text === 'string' && INTEGER.test(text)) return BigInt(text);
    if (tag === DATE && typeof text === 'string' && ISO.test(text) && Number.isFinite(Date.parse(text))) return new Date(text);
    throw invalid(`has a malformed ${tag} value`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    if (key.startsWith('$')) throw invalid(`has a key "${key}" starting with "$"`);
    out[key] = decodeValue(item, depth + 1);
  }
  return out;
}

const isTemplate = (value: unknown): value is EmailTemplateId =>
  typeof value === 'string' && (EMAIL_TEMPLATES as readonly string[]).includes(value);

const ATTACH = ['pdf', 'csv', 'none'];

/** JSON text for an `email.send` message. Values JSON cannot carry exactly (functions, NaN, invalid dates): `VALIDATION`. */
export function encodeEmailPayload<T extends EmailTemplateId>(payload: EmailSendPayload<T>): string {
  if (!isTemplate(payload.template)) throw invalid(`names an unknown template "${String(payload.template)}"`);
  if (typeof payload.data !== 'object' || payload.data === null) throw invalid('data must be an object');
  const message: Record<string, unknown> = { v: VERSION, template: payload.template, key: payload.key, data: encodeValue(payload.data, 0) };
  if (isAdminEmailTemplate(payload.template)) {
    const admin = payload.admin;
    if (!admin) throw invalid(`for ${payload.template} needs its recipient`);
    // The report nests deeper than template data: it is encoded from its own top.
    message.admin = { ...admin, report: admin.report === null ? null : encodeValue(admin.report, 0) };
  } else if (payload.admin) {
    throw invalid(`for ${payload.template} cannot name a recipient: a customer mail goes to the customer`);
  }
  return JSON.stringify(message);
}

function decodeAdmin(value: unknown, template: AdminEmailTemplateId): AdminMailPayload {
  if (typeof value !== 'object' || value === null) throw invalid(`for ${template} has no recipient`);
  const { to, locale, attach, report } = value as Record<string, unknown>;
  if (!(ATTACH as unknown[]).includes(attach)) throw invalid('has an unknown attachment format');
  const decoded = report === null ? null : decodeValue(report, 0);
  if (attach !== 'none' && (typeof decoded !== 'object' || decoded === null)) throw invalid('has no report to attach');
  let recipient: EmailAddress;
  try {
    recipient = checkAddress(to, 'to');
    if (locale !== null) checkLocale(locale, 'locale');
  } catch {
    throw invalid('has a malformed recipient or locale');
  }
  return { to: recipient, locale: locale as string | null, attach: attach as AdminMailPayload['attach'], report: decoded as Report | null };
}

/** The payload `encodeEmailPayload` wrote; anything else is `VALIDATION`. */
export function decodeEmailPayload(text: string): EmailSendPayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('is not an object');
  const { v, template, key, data } = parsed as Record<string, unknown>;
  if (v !== VERSION) throw invalid(`has version ${String(v)}, not ${VERSION}`);
  if (!isTemplate(template)) throw invalid(`names an unknown template "${String(template)}"`);
  if (typeof key !== 'string' || key === '') throw invalid('has no key');
  const decoded = decodeValue(data, 0);
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalid('data must be an object');
  if (isAdminEmailTemplate(template)) {
    const admin = decodeAdmin((parsed as Record<string, unknown>).admin, template);
    return { template, key, data: decoded as EmailTemplateData[EmailTemplateId], admin };
  }
  if (typeof (decoded as { customerId?: unknown }).customerId !== 'string') throw invalid('data has no customerId');
  return { template, key, data: decoded as EmailTemplateData[EmailTemplateId] };
}
