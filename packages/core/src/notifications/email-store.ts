/**
 * The input checks of the `EmailStore` port (email.ts): the delivery log and the scheduler's claimed
 * runs. They live here so the memory store, PGlite and Postgres refuse the same input with the same
 * `VALIDATION`, before anything is written.
 */
import { TallyError } from '../errors/index.js';
import { identifier } from '../ledger/validate.js';
import {
  type ClaimScheduledRunCommand,
  EMAIL_DELIVERY_STATUSES,
  EMAIL_TEMPLATES,
  type EmailDelivery,
  type EmailDeliveryQuery,
  type EmailDeliveryStatus,
  type EmailSuppression,
  type EmailTemplateId,
  type RecordEmailDeliveryCommand,
} from './email.js';

export const MAX_EMAIL_DELIVERY_PAGE = 500;
export const MAX_EMAIL_DEDUPE_KEY = 500;
export const EMAIL_SUPPRESSIONS: readonly EmailSuppression[] = ['preference', 'no_recipient'];

function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

const oneOf = <T extends string>(list: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (list as readonly string[]).includes(value);

// A lone surrogate has no UTF-8 form: Postgres would store U+FFFD instead, so the stores would differ.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Text that every store keeps exactly: no NUL (Postgres refuses it in text) and no lone surrogate. */
function storable(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.includes('\0') || LONE_SURROGATE.test(value)) {
    throw invalid(field, 'must be a string without NUL or unpaired surrogates');
  }
  return value;
}

const storableOrNull = (value: unknown, field: string): string | null => (value === null ? null : storable(value, field));

// Years 1–9999: what both JavaScript and Postgres timestamps hold, written with four digits.
const EARLIEST = new Date('0001-01-01T00:00:00.000Z').getTime();
const LATEST = new Date('9999-12-31T23:59:59.999Z').getTime();

/** A copy of a valid date in years 1–9999. */
function time(value: unknown, field: string): Date {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) throw invalid(field, 'must be a valid date in the years 1 to 9999');
  return new Date(ms);
}

/** The Postgres `integer` range: attempts are stored in one. */
const MAX_ATTEMPT = 2_147_483_647;

/**
 * Checks a delivery-log line and returns a copy of it: template, status and suppression from their
 * lists, a suppression exactly when the status is `suppressed`, `attempt` ≥ 1, a dedupe key of 1–500
 * characters, no NUL in any text. Customer ids follow `identifier()`.
 */
export function checkRecordEmailDelivery(command: RecordEmailDeliveryCommand): RecordEmailDeliveryCommand {
  if (typeof command !== 'object' || command === null) throw invalid('command', 'must be an object');
  const dedupeKey = storable(command.dedupeKey, 'dedupeKey');
  if (dedupeKey === '' || dedupeKey.length > MAX_EMAIL_DEDUPE_KEY) {
    throw invalid('dedupeKey', `must be 1 to ${MAX_EMAIL_DEDUPE_KEY} characters`);
  }
  if (!oneOf(EMAIL_TEMPLATES, command.template)) throw invalid('template', `must be one of ${EMAIL_TEMPLATES.join(', ')}`);
  if (!oneOf(EMAIL_DELIVERY_STATUSES, command.status)) {
    throw invalid('status', `must be one of ${EMAIL_DELIVERY_STATUSES.join(', ')}`);
  }
  const suppression = command.suppression;
  if (command.status === 'suppressed') {
    if (!oneOf(EMAIL_SUPPRESSIONS, suppression)) throw invalid('suppression', `must be one of ${EMAIL_SUPPRESSIONS.join(', ')}`);
  } else if (suppression !== null) {
    throw invalid('suppression', 'must be null unless the status is suppressed');
  }
  const attempt = command.attempt;
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT) {
    throw invalid('attempt', `must be a whole number from 1 to ${MAX_ATTEMPT}`);
  }
  if (typeof command.test !== 'boolean') throw invalid('test', 'must be true or false');
  return {
    dedupeKey,
    customerId: command.customerId === null ? null : identifier(command.customerId, 'customerId'),
    template: command.template,
    to: storableOrNull(command.to, 'to'),
    subject: storableOrNull(command.subject, 'subject'),
    status: command.status,
    suppression,
    attempt,
    error: storableOrNull(command.error, 'error'),
    transport: storableOrNull(command.transport, 'transport'),
    messageId: storableOrNull(command.messageId, 'messageId'),
    test: command.test,
    at: time(command.at, 'at'),
  };
}

// ---- the log's cursor: (at, id) of the last line of a page, newest first

const CURSOR_PREFIX = 'd1.';
const CURSOR_BODY = /^(-?(?:0|[1-9]\d{0,15}))\.([1-9]\d{0,18})$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR = 200;
const MAX_ID = 2n ** 63n - 1n;
// Base64 of ASCII: a global in every runtime core supports (Node 16+, browsers, workers, Deno, Bun).
const base64 = globalThis as unknown as { atob(text: string): string; btoa(binary: string): string };

/** The cursor that continues after `delivery`: opaque to callers (base64url of its time and id). */
export function emailDeliveryCursor(delivery: Pick<EmailDelivery, 'at' | 'id'>): string {
  const body = base64.btoa(`${delivery.at.getTime()}.${delivery.id}`);
  return CURSOR_PREFIX + body.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Where a cursor continues: before this (at, id). `VALIDATION` for anything `emailDeliveryCursor` did not make. */
function cursorPosition(cursor: unknown): { at: Date; id: string } {
  const foreign = () => invalid('cursor', 'is not a delivery-log cursor this store issued');
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR || !cursor.startsWith(CURSOR_PREFIX)) throw foreign();
  const encoded = cursor.slice(CURSOR_PREFIX.length);
  if (!BASE64URL.test(encoded) || encoded.length % 4 === 1) throw foreign();
  let body: string;
  try {
    body = base64.atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    throw foreign();
  }
  const match = CURSOR_BODY.exec(body);
  if (!match || BigInt(match[2] as string) > MAX_ID) throw foreign();
  const ms = Number(match[1]);
  if (ms < EARLIEST || ms > LATEST) throw foreign();
  const position = { at: new Date(ms), id: match[2] as string };
  // One spelling per position: a cursor with stray trailing bits was not made here.
  if (emailDeliveryCursor(position) !== cursor) throw foreign();
  return position;
}

export interface CheckedEmailDeliveryQuery {
  customerId: string | null;
  status: EmailDeliveryStatus | null;
  template: EmailTemplateId | null;
  /** The last line of the previous page; this page starts after it. Null at the start. */
  after: { at: Date; id: string } | null;
  limit: number;
}

/** Checks a `listEmailDeliveries` query: filters from their lists, a limit of 1–500, a cursor this module made. */
export function checkEmailDeliveryQuery(query: EmailDeliveryQuery): CheckedEmailDeliveryQuery {
  if (typeof query !== 'object' || query === null) throw invalid('query', 'must be an object');
  const limit = query.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EMAIL_DELIVERY_PAGE) {
    throw invalid('limit', `must be a whole number from 1 to ${MAX_EMAIL_DELIVERY_PAGE}`);
  }
  const { status, template } = query;
  if (status !== undefined && !oneOf(EMAIL_DELIVERY_STATUSES, status)) {
    throw invalid('status', `must be one of ${EMAIL_DELIVERY_STATUSES.join(', ')}`);
  }
  if (template !== undefined && !oneOf(EMAIL_TEMPLATES, template))
    throw invalid('template', `must be one of ${EMAIL_TEMPLATES.join(', ')}`);
  return {
    customerId: query.customerId === undefined ? null : identifier(query.customerId, 'customerId'),
    status: status ?? null,
    template: template ?? null,
    after: query.cursor === undefined ? null : cursorPosition(query.cursor),
    limit,
  };
}

/** Newest first: later `at` first, then the larger id (ids are decimal integers, compared as numbers). */
export function compareEmailDeliveries(a: Pick<EmailDelivery, 'at' | 'id'>, b: Pick<EmailDelivery, 'at' | 'id'>): number {
  const byTime = b.at.getTime() - a.at.getTime();
  if (byTime !== 0) return byTime;
  return b.id.length - a.id.length || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

// ---- the scheduler's claimed runs

/** Job names follow `identifier()`: 1–255 visible ASCII characters. */
export const checkScheduledJob = (job: string): string => identifier(job, 'job');

/** A slot is a cron time: a valid date in whole seconds. */
function slotTime(value: unknown): Date {
  const slot = time(value, 'slot');
  if (slot.getTime() % 1000 !== 0) throw invalid('slot', 'must be a whole second');
  return slot;
}

/** Checks a claim and returns a copy: a job name, a whole-second slot, and a lease that ends after `at`. */
export function checkClaimScheduledRun(command: ClaimScheduledRunCommand): ClaimScheduledRunCommand {
  if (typeof command !== 'object' || command === null) throw invalid('command', 'must be an object');
  const claim = {
    job: checkScheduledJob(command.job),
    slot: slotTime(command.slot),
    at: time(command.at, 'at'),
    leaseUntil: time(command.leaseUntil, 'leaseUntil'),
  };
  if (claim.leaseUntil.getTime() <= claim.at.getTime()) throw invalid('leaseUntil', 'must be after at');
  return claim;
}

/** Checks a completion and returns a copy. */
export function checkCompleteScheduledRun(command: { job: string; slot: Date; at: Date }): { job: string; slot: Date; at: Date } {
  if (typeof command !== 'object' || command === null) throw invalid('command', 'must be an object');
  return { job: checkScheduledJob(command.job), slot: slotTime(command.slot), at: time(command.at, 'at') };
}

/** Completing a slot nobody claimed: a bug in the caller, not a run to record. */
export function unclaimedRun(job: string, slot: Date): TallyError {
  return new TallyError('NOT_FOUND', `No claimed run of "${job}" for ${slot.toISOString()}`, {
    details: { job, slot: slot.toISOString() },
  });
}
