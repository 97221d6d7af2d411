/**
 * Signed one-click unsubscribe tokens (docs/notifications.md, "Unsubscribe"). A token names one
 * customer and one category and carries an HMAC-SHA-256 over both, so the link in a mail can turn
 * off exactly that category for exactly that customer, and nothing else: a token is not a login.
 * Web Crypto only (`globalThis.crypto.subtle`), so core stays free of `node:crypto`.
 */
import { hmacSha256 } from '../crypto/hmac.js';
import { TallyError } from '../errors/index.js';
import { identifier } from '../ledger/validate.js';
import { isNotificationCategory, type NotificationCategory } from './preferences.js';

const base64 = globalThis as unknown as { atob(text: string): string; btoa(binary: string): string };

/** What a token says: whose category to turn off. */
export interface UnsubscribeClaim {
  customerId: string;
  category: NotificationCategory;
}

export interface UnsubscribeSigner {
  sign(claim: UnsubscribeClaim): Promise<string>;
  /** The claim of a token this signer made; anything else (malformed, forged, altered): `FORBIDDEN`. */
  verify(token: string): Promise<UnsubscribeClaim>;
}

/** A shorter secret could be guessed offline from one token; 32 bytes match the MAC's strength. */
export const MIN_UNSUBSCRIBE_SECRET_BYTES = 32;
const VERSION = 1;
/** Binds the MAC to this use, so a secret shared with another signer never yields a valid token here. */
const DOMAIN = 'tally.unsubscribe.v1.';
const MAC_BYTES = 32;
/** A customer id is at most 255 characters: the payload's base64url stays far below this. */
const MAX_TOKEN = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return base64.btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Null for anything that is not canonical base64url (so one token has exactly one spelling). */
function fromBase64Url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(base64.atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return toBase64Url(bytes) === text ? bytes : null;
}

/** Compares every byte whatever the first difference, so the time taken says nothing about the MAC. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

/** The secret's bytes: a string of ≥ 32 characters (its UTF-8) or ≥ 32 raw bytes; else `VALIDATION`. */
export function unsubscribeSecretBytes(secret: unknown): Uint8Array {
  if (typeof secret === 'string') {
    if (secret.length < MIN_UNSUBSCRIBE_SECRET_BYTES) {
      throw new TallyError('VALIDATION', `unsubscribe.secret must be at least ${MIN_UNSUBSCRIBE_SECRET_BYTES} characters`, {
        details: { field: 'unsubscribe.secret' },
      });
    }
    return new TextEncoder().encode(secret);
  }
  if (secret instanceof Uint8Array) {
    if (secret.length < MIN_UNSUBSCRIBE_SECRET_BYTES) {
      throw new TallyError('VALIDATION', `unsubscribe.secret must be at least ${MIN_UNSUBSCRIBE_SECRET_BYTES} bytes`, {
        details: { field: 'unsubscribe.secret' },
      });
    }
    return Uint8Array.from(secret);
  }
  throw new TallyError('VALIDATION', 'unsubscribe.secret must be a string or a Uint8Array', { details: { field: 'unsubscribe.secret' } });
}

/**
 * Signs and checks tokens: `base64url(payload) + "." + base64url(HMAC-SHA-256(secret, domain + payload part))`,
 * the payload being `{"v":1,"c":customerId,"k":category}`. The MAC is checked before the payload is read.
 */
export function createUnsubscribeSigner(secret: string | Uint8Array): UnsubscribeSigner {
  const keyBytes = unsubscribeSecretBytes(secret);
  const sign = hmacSha256(keyBytes);
  const encoder = new TextEncoder();
  const mac = (part: string) => sign(encoder.encode(DOMAIN + part));
  const forbidden = () => new TallyError('FORBIDDEN', 'The unsubscribe link is not valid');

  return {
    async sign(claim) {
      const customerId = identifier(claim.customerId, 'customerId');
      if (!isNotificationCategory(claim.category)) {
        throw new TallyError('VALIDATION', `"${String(claim.category)}" is not a notification category`, {
          details: { field: 'category' },
        });
      }
      const part = toBase64Url(encoder.encode(JSON.stringify({ v: VERSION, c: customerId, k: claim.category })));
      return `${part}.${toBase64Url(await mac(part))}`;
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN) throw forbidden();
      const parts = token.split('.');
      if (parts.length !== 2) throw forbidden();
      const [part, signature] = parts as [string, string];
      const given = fromBase64Url(signature);
      const payload = fromBase64Url(part);
      if (!given || given.length !== MAC_BYTES || !payload) throw forbidden();
      if (!sameBytes(await mac(part), given)) throw forbidden();
      // Signed by us, so well-formed unless the format changed: still checked, never trusted blindly.
      let claim: unknown;
      try {
        claim = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
      } catch {
        throw forbidden();
      }
      const { v, c, k } = (claim ?? {}) as Record<string, unknown>;
      if (v !== VERSION || typeof c !== 'string' || !isNotificationCategory(k)) throw forbidden();
      try {
        return { customerId: identifier(c, 'customerId'), category: k };
      } catch {
        throw forbidden();
      }
    },
  };
}
