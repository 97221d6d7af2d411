/**
 * The storage port for notification preferences and the customer listing the HTTP API's admin pages
 * use (part of `TallyStore`; semantics in docs/notifications.md). The query checks and the cursor
 * live here so every store refuses the same input with the same `VALIDATION`.
 */
import { TallyError } from '../errors/index.js';
import type { CustomerRecord, Page } from '../ledger/types.js';
import type { NotificationPreferences, SetNotificationPreferencesCommand } from './preferences.js';

export interface CustomerQuery {
  /** A case-insensitive substring of the id (ASCII letters fold; `%` and `_` are plain characters). At most 100 characters. */
  search?: string;
  /** The previous page's `nextCursor`. */
  cursor?: string;
  /** 1–500. */
  limit: number;
}

export interface NotificationStore {
  /** Every category, with the defaults (on) for those never set. Unknown customer: `NOT_FOUND`. */
  getNotificationPreferences(customerId: string): Promise<NotificationPreferences>;
  /**
   * Applies `changes` and stamps `updatedAt` with `at`; categories not named keep their values.
   * Unknown category, a value other than true or false, or a required category turned off:
   * `VALIDATION`, and nothing changes. Unknown customer: `NOT_FOUND`.
   */
  setNotificationPreferences(command: SetNotificationPreferencesCommand): Promise<NotificationPreferences>;
  /** Customers in ascending id order (binary string order), a page at a time. */
  listCustomers(query: CustomerQuery): Promise<Page<CustomerRecord>>;
}

export const MAX_CUSTOMER_PAGE = 500;
export const MAX_CUSTOMER_SEARCH = 100;

const CURSOR_PREFIX = 'c1.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Far above any id a store holds (identifier() allows 255): a longer string is no cursor of ours. */
const MAX_CURSOR = 4096;
// Base64 of binary strings: a global in every runtime core supports (Node 16+, browsers, workers, Deno, Bun).
const base64 = globalThis as unknown as { atob(text: string): string; btoa(binary: string): string };

function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

/** The cursor that continues after the customer `id`: base64url of the id's UTF-8, so callers treat it as opaque. */
export function customerCursor(id: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(id)) binary += String.fromCharCode(byte);
  return CURSOR_PREFIX + base64.btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The id a cursor continues after; `VALIDATION` for anything `customerCursor` did not make. */
function cursorId(cursor: unknown): string {
  const foreign = () => invalid('cursor', 'is not a customer cursor this store issued');
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR || !cursor.startsWith(CURSOR_PREFIX)) throw foreign();
  const body = cursor.slice(CURSOR_PREFIX.length);
  if (!BASE64URL.test(body) || body.length % 4 === 1) throw foreign();
  let id: string;
  try {
    const binary = base64.atob(body.replace(/-/g, '+').replace(/_/g, '/'));
    id = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    throw foreign();
  }
  // One spelling per id: a cursor with stray trailing bits was not made here.
  if (id === '' || id.includes('\0') || customerCursor(id) !== cursor) throw foreign();
  return id;
}

/** Checks a `listCustomers` query: the search (null for none), the id to continue after (null at the start) and the limit. */
export function checkCustomerQuery(query: CustomerQuery): { search: string | null; after: string | null; limit: number } {
  if (typeof query !== 'object' || query === null) throw invalid('query', 'must be an object');
  const limit = query.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CUSTOMER_PAGE) {
    throw invalid('limit', `must be a whole number from 1 to ${MAX_CUSTOMER_PAGE}`);
  }
  let search: string | null = null;
  if (query.search !== undefined) {
    // NUL can be in no id, and Postgres refuses it in text: refused here so every store says VALIDATION.
    if (typeof query.search !== 'string' || Array.from(query.search).length > MAX_CUSTOMER_SEARCH || query.search.includes('\0')) {
      throw invalid('search', `must be a string of at most ${MAX_CUSTOMER_SEARCH} characters, without NUL`);
    }
    // An empty search matches every id: the same as none.
    if (query.search !== '') search = query.search;
  }
  const after = query.cursor === undefined ? null : cursorId(query.cursor);
  return { search, after, limit };
}

/** ASCII letters to lower case, nothing else: the folding `search` uses in every store (Postgres `ilike` under collation "C"). */
export const foldAsciiCase = (text: string): string => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
