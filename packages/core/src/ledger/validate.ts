import { TallyError } from '../errors/index.js';
import { type IntegerInput, toBigInt } from '../units/integer.js';
import { BUCKET_KINDS, type BucketKind } from './types.js';

/** Largest single amount the ledger accepts: a billion credits. Anything above is a bug upstream. */
export const MAX_AMOUNT_MICROS = 10n ** 15n;

export function amount(value: IntegerInput, label: string, rule: 'positive' | 'non-negative' | 'non-zero'): bigint {
  const micros = toBigInt(value, label);
  const magnitude = micros < 0n ? -micros : micros;
  if (magnitude > MAX_AMOUNT_MICROS) {
    throw new TallyError('VALIDATION', `${label} is larger than ${MAX_AMOUNT_MICROS} micros`, { details: { field: label } });
  }
  if (rule === 'positive' && micros <= 0n)
    throw new TallyError('VALIDATION', `${label} must be greater than zero`, { details: { field: label } });
  if (rule === 'non-negative' && micros < 0n)
    throw new TallyError('VALIDATION', `${label} must not be negative`, { details: { field: label } });
  if (rule === 'non-zero' && micros === 0n) throw new TallyError('VALIDATION', `${label} must not be zero`, { details: { field: label } });
  // The literal is one shared value; a converted 0 is a new one, which a stored usage entry would keep.
  return micros === 0n ? 0n : micros;
}

const ID = /^[\x21-\x7e]{1,255}$/;

/** Ids and keys: 1–255 visible ASCII characters, no spaces. */
export function identifier(value: unknown, label: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new TallyError('VALIDATION', `${label} must be 1-255 visible ASCII characters without spaces`, { details: { field: label } });
  }
  return value;
}

export function text(value: unknown, label: string, { required = false, max = 500 } = {}): string | null {
  if (value === undefined || value === null) {
    if (required) throw new TallyError('VALIDATION', `${label} is required`, { details: { field: label } });
    return null;
  }
  if (typeof value !== 'string' || value.length > max || (required && value.trim() === '')) {
    throw new TallyError('VALIDATION', `${label} must be ${required ? 'a non-blank' : 'a'} string of at most ${max} characters`, {
      details: { field: label },
    });
  }
  return value;
}

export function bucketKind(value: unknown): BucketKind {
  if (typeof value === 'string' && (BUCKET_KINDS as readonly string[]).includes(value)) return value as BucketKind;
  throw new TallyError('VALIDATION', `bucket kind must be one of ${BUCKET_KINDS.join(', ')}`, { details: { field: 'kind' } });
}

export function date(value: unknown, label: string): Date {
  const result = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!result || !Number.isFinite(result.getTime()))
    throw new TallyError('VALIDATION', `${label} must be a valid date`, { details: { field: label } });
  return result;
}

export function duration(value: unknown, label: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > 366 * 24 * 3600 * 1000) {
    throw new TallyError('VALIDATION', `${label} must be a whole number of milliseconds between 1 and a year`, {
      details: { field: label },
    });
  }
  return value;
}
