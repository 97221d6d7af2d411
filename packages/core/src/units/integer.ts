import { TallyError } from '../errors/index.js';

/** Integer input as apps write it: a bigint, a safe integer, or a string of digits. */
export type IntegerInput = bigint | number | string;

const INTEGER = /^-?\d{1,40}$/;

/** Converts an integer input to bigint without passing through a float; refuses anything inexact. */
export function toBigInt(value: IntegerInput, label = 'value'): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new TallyError('VALIDATION', `${label} must be a safe integer, got ${value}`);
    }
    return BigInt(value);
  }
  if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value);
  throw new TallyError('VALIDATION', `${label} must be an integer, got ${JSON.stringify(String(value))}`);
}
