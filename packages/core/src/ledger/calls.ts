/**
 * The call log: metered calls that charged nothing (a free model, a BYOK call without a platform fee).
 * A charged call lives in the journal as a `usage` entry; an uncharged one would leave no trace there,
 * so it is kept here instead, once per (customer, idempotency key). See docs/ledger.md, "Calls that
 * charge nothing". The checks live here so every store refuses the same input with the same
 * `VALIDATION`, before anything is written.
 */
import { TallyError } from '../errors/index.js';
import type { IntegerInput } from '../units/integer.js';
import { toBigInt } from '../units/integer.js';
import { EACH_END_USER_SCOPE } from './spend-caps.js';
import type { Page } from './types.js';
import { identifier } from './validate.js';

/** One metered call that charged nothing, as the call log keeps it. */
export interface UnchargedCall {
  customerId: string;
  /** The customer's end user or API key the call was made for. */
  endUserId: string | null;
  model: string;
  /** All prompt tokens, cached ones included. */
  inputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens: number;
  /** All completion tokens, reasoning included. */
  outputTokens: number;
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens: number;
  /** What the call cost on the provider side; for BYOK what the customer's own key paid. */
  providerCostNanoUsd: bigint;
  keySource: 'managed' | 'byok';
  /** The model is free (priced 0, or an id ending in `:free`). */
  free: boolean;
  catalogVersion: string;
  generationId: string | null;
  /** With `customerId`, what makes a retried request land once. */
  idempotencyKey: string;
  at: Date;
}

export interface UnchargedCallRecord extends UnchargedCall {
  /** Decimal id, in insertion order. */
  id: string;
}

export interface UnchargedCallQuery {
  customerId?: string;
  /** Inclusive lower bound on `at`. */
  from: Date;
  /** Exclusive upper bound on `at`. */
  to: Date;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
  /** 1–500. */
  limit: number;
}

/** The call log's part of `TallyStore`. */
export interface UnchargedCallStore {
  /**
   * Logs calls; a call whose (customerId, idempotencyKey) is already logged, or repeated earlier in
   * the batch, is skipped. Returns how many were new. Bad values: `VALIDATION`; a customer the store
   * does not know: `NOT_FOUND`. Either way nothing of the batch is written.
   */
  recordUncharged(calls: UnchargedCall[]): Promise<number>;
  /** Logged calls with `from ≤ at < to`, oldest first (by `at`, then id), a page at a time. */
  listUncharged(query: UnchargedCallQuery): Promise<Page<UnchargedCallRecord>>;
}

export const MAX_UNCHARGED_BATCH = 10_000;
export const MAX_UNCHARGED_PAGE = 500;
/** Catalog versions are 1–64 characters (catalog schema); generation ids are the provider's, kept to 500. */
const MAX_CATALOG_VERSION = 64;
const MAX_GENERATION_ID = 500;
/** The Postgres `bigint` range: provider costs are stored in one. */
const MAX_COST = 2n ** 63n - 1n;
// Years 1–9999: what both JavaScript and Postgres timestamps hold, written with four digits.
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

function invalid(field: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${field} ${message}`, { details: { field } });
}

function tokens(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(field, 'must be a non-negative safe integer');
  // -0 passes the checks; Postgres would give it back as 0, so every store keeps 0.
  return value === 0 ? 0 : value;
}

// A lone surrogate has no UTF-8 form (Postgres would keep U+FFFD) and NUL is refused in Postgres text.
const UNSTORABLE = /[\0\uD800-\uDFFF]/u;

function storable(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value === '' || value.length > max || UNSTORABLE.test(value)) {
    throw invalid(field, `must be 1 to ${max} characters without NUL or unpaired surrogates`);
  }
  return value;
}

/** A copy of a valid date in the years 1–9999. */
function time(value: unknown, field: string): Date {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) throw invalid(field, 'must be a valid date in the years 1 to 9999');
  return new Date(ms);
}

/** As `endUserOf`, with the field named in full; `"*"` is the each-end-user cap's, never an end user. */
function endUser(value: unknown, field: string): string | null {
  if (value === null) return null;
  const id = identifier(value, field);
  if (id === EACH_END_USER_SCOPE) throw invalid(field, 'must not be "*", the each-end-user cap');
  return id;
}

/** Checks one call and returns a copy; `field` prefixes the names in messages (`calls[3].model`). */
function checkCall(call: UnchargedCall, field: string): UnchargedCall {
  if (typeof call !== 'object' || call === null) throw invalid(field, 'must be an object');
  const inputTokens = tokens(call.inputTokens, `${field}.inputTokens`);
  const cachedInputTokens = tokens(call.cachedInputTokens, `${field}.cachedInputTokens`);
  const outputTokens = tokens(call.outputTokens, `${field}.outputTokens`);
  const reasoningTokens = tokens(call.reasoningTokens, `${field}.reasoningTokens`);
  if (cachedInputTokens > inputTokens) throw invalid(`${field}.cachedInputTokens`, 'cannot exceed inputTokens');
  if (reasoningTokens > outputTokens) throw invalid(`${field}.reasoningTokens`, 'cannot exceed outputTokens');
  const cost = call.providerCostNanoUsd;
  if (typeof cost !== 'bigint' || cost < 0n || cost > MAX_COST) {
    throw invalid(`${field}.providerCostNanoUsd`, `must be a bigint from 0 to ${MAX_COST}`);
  }
  if (call.keySource !== 'managed' && call.keySource !== 'byok') throw invalid(`${field}.keySource`, 'must be "managed" or "byok"');
  if (typeof call.free !== 'boolean') throw invalid(`${field}.free`, 'must be true or false');
  return {
    customerId: identifier(call.customerId, `${field}.customerId`),
    endUserId: endUser(call.endUserId, `${field}.endUserId`),
    model: identifier(call.model, `${field}.model`),
    inputTokens,
    cachedInputTokens,
    outputTokens,
    reasoningTokens,
    providerCostNanoUsd: cost,
    keySource: call.keySource,
    free: call.free,
    catalogVersion: storable(call.catalogVersion, `${field}.catalogVersion`, MAX_CATALOG_VERSION),
    generationId: call.generationId === null ? null : storable(call.generationId, `${field}.generationId`, MAX_GENERATION_ID),
    idempotencyKey: identifier(call.idempotencyKey, `${field}.idempotencyKey`),
    at: time(call.at, `${field}.at`),
  };
}

/**
 * Checks a `recordUncharged` batch (0 to 10,000 calls) and returns copies in the order the stores
 * insert them: by customer, then key (binary order), then position. One order for every batch means
 * concurrent batches wait on each other's keys in the same order and never deadlock; the stable sort
 * keeps the first of a key repeated in the batch ahead of the others, so the first one is kept.
 */
export function checkUnchargedCalls(calls: UnchargedCall[]): UnchargedCall[] {
  if (!Array.isArray(calls) || calls.length > MAX_UNCHARGED_BATCH) {
    throw invalid('calls', `must be a list of at most ${MAX_UNCHARGED_BATCH} calls`);
  }
  const checked = calls.map((call, index) => checkCall(call, `calls[${index}]`));
  // Any fixed order would do; identifiers are ASCII, so `<` is plain byte order.
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return checked.sort((a, b) => order(a.customerId, b.customerId) || order(a.idempotencyKey, b.idempotencyKey));
}

/** The log's unique key of a call: ids and keys are visible ASCII, so a newline separates them unambiguously. */
export const unchargedCallKey = (call: Pick<UnchargedCall, 'customerId' | 'idempotencyKey'>): string =>
  `${call.customerId}\n${call.idempotencyKey}`;

// ---- the listing's cursor: (at, id) of a page's last call, oldest first

const CURSOR = /^u1\.(-?(?:0|[1-9]\d{0,15}))\.([1-9]\d{0,18})$/;
const MAX_ID = 2n ** 63n - 1n;

/** The cursor that continues after `call`. */
export const unchargedCallCursor = (call: Pick<UnchargedCallRecord, 'at' | 'id'>): string => `u1.${call.at.getTime()}.${call.id}`;

function cursorPosition(cursor: unknown): { at: Date; id: string } {
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  const ms = match ? Number(match[1]) : Number.NaN;
  const position = { at: new Date(ms), id: match?.[2] as string };
  // One spelling per position: "-0" is no time this module writes.
  if (!match || BigInt(position.id) > MAX_ID || !(ms >= EARLIEST && ms <= LATEST) || unchargedCallCursor(position) !== cursor) {
    throw invalid('cursor', 'is not a call-log cursor this store issued');
  }
  return position;
}

export interface CheckedUnchargedCallQuery {
  customerId: string | null;
  from: Date;
  to: Date;
  /** The last call of the previous page; this page starts after it. Null at the start. */
  after: { at: Date; id: string } | null;
  limit: number;
}

/** Checks a `listUncharged` query: a range with `from ≤ to`, a limit of 1–500, a cursor this module made. */
export function checkUnchargedQuery(query: UnchargedCallQuery): CheckedUnchargedCallQuery {
  if (typeof query !== 'object' || query === null) throw invalid('query', 'must be an object');
  const limit = query.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_UNCHARGED_PAGE) {
    throw invalid('limit', `must be a whole number from 1 to ${MAX_UNCHARGED_PAGE}`);
  }
  const from = time(query.from, 'from');
  const to = time(query.to, 'to');
  if (to.getTime() < from.getTime()) throw invalid('to', 'must not be before from');
  return {
    customerId: query.customerId === undefined ? null : identifier(query.customerId, 'customerId'),
    from,
    to,
    after: query.cursor === undefined ? null : cursorPosition(query.cursor),
    limit,
  };
}

/** Oldest first: earlier `at` first, then the smaller id (decimal integers, compared as numbers). */
export function compareUnchargedCalls(a: Pick<UnchargedCallRecord, 'at' | 'id'>, b: Pick<UnchargedCallRecord, 'at' | 'id'>): number {
  const byTime = a.at.getTime() - b.at.getTime();
  if (byTime !== 0) return byTime;
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// ---- what callers write: token counts as apps have them, defaults filled in

export interface UnchargedCallInput {
  customerId: string;
  endUserId?: string | null;
  model: string;
  inputTokens: IntegerInput;
  cachedInputTokens?: IntegerInput;
  outputTokens: IntegerInput;
  reasoningTokens?: IntegerInput;
  providerCostNanoUsd: IntegerInput;
  /** Default `managed`. */
  keySource?: 'managed' | 'byok';
  free: boolean;
  /** Default: the Tally's catalog version. */
  catalogVersion?: string;
  generationId?: string | null;
  idempotencyKey: string;
  /** When the call happened. Default: now, on the Tally's clock. */
  at?: Date | string;
}

function tokenCount(value: IntegerInput | undefined, field: string): number {
  if (value === undefined) return 0;
  const count = toBigInt(value, field);
  if (count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(field, 'must be a non-negative safe integer');
  return Number(count);
}

/** An input as the store's `UnchargedCall` (which `checkUnchargedCalls` then checks in full). */
export function unchargedCallOf(input: UnchargedCallInput, defaults: { catalogVersion: string; at: Date }): UnchargedCall {
  if (typeof input !== 'object' || input === null) throw invalid('call', 'must be an object');
  const at = input.at === undefined ? defaults.at : typeof input.at === 'string' ? new Date(input.at) : input.at;
  return {
    customerId: input.customerId,
    endUserId: input.endUserId ?? null,
    model: input.model,
    inputTokens: tokenCount(input.inputTokens, 'inputTokens'),
    cachedInputTokens: tokenCount(input.cachedInputTokens, 'cachedInputTokens'),
    outputTokens: tokenCount(input.outputTokens, 'outputTokens'),
    reasoningTokens: tokenCount(input.reasoningTokens, 'reasoningTokens'),
    providerCostNanoUsd: toBigInt(input.providerCostNanoUsd, 'providerCostNanoUsd'),
    keySource: input.keySource ?? 'managed',
    free: input.free,
    catalogVersion: input.catalogVersion ?? defaults.catalogVersion,
    generationId: input.generationId ?? null,
    idempotencyKey: input.idempotencyKey,
    at,
  };
}
