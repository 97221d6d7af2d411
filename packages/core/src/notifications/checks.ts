/**
 * The option checks the notifier and its scheduled reports share: addresses, URLs and locales are
 * refused with `VALIDATION` naming the field when the notifier is created, not when a mail goes out.
 */
import { TallyError } from '../errors/index.js';
import type { EmailAddress } from './email.js';

const LOCALE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$/;
// One @, something on each side, no whitespace, angle brackets or quotes (nothing a header could be split on).
export const ADDRESS = /^[^\s@<>"',;]+@[^\s@<>"',;]+$/;

export function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

export const isAddress = (value: unknown): value is string => typeof value === 'string' && value.length <= 254 && ADDRESS.test(value);

export function checkAddress(value: unknown, field: string): EmailAddress {
  if (typeof value !== 'object' || value === null) throw invalid(field, 'must be { address, name }');
  const { address, name } = value as Record<string, unknown>;
  if (!isAddress(address)) throw invalid(`${field}.address`, 'must be an email address');
  if (name !== null && (typeof name !== 'string' || name.length > 200 || /[\r\n\0]/.test(name))) {
    throw invalid(`${field}.name`, 'must be null or a single line of at most 200 characters');
  }
  return { address, name };
}

export function httpUrl(value: unknown, field: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalid(field, 'must be an absolute URL');
  }
  if (typeof value !== 'string' || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw invalid(field, 'must be an http(s) URL');
  return value;
}

export function checkLocale(locale: unknown, field: string): string {
  if (typeof locale !== 'string' || !LOCALE.test(locale)) throw invalid(field, 'must be a BCP 47 language tag such as en or de-CH');
  return locale;
}
