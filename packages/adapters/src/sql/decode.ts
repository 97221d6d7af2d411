import type {
  AuditReport,
  Balance,
  BalanceSnapshot,
  Bucket,
  BucketKind,
  CaptureResult,
  ChargeResult,
  CustomerRecord,
  Entry,
  EntryKind,
  GrantResult,
  Hold,
  HoldResult,
  HoldStatus,
  OutboxMessage,
  UsageDetails,
} from '@tally/core';

// The SQL functions answer in JSON with bigints as strings and times as ISO text; these turn
// that back into the port's types.
type Json = Record<string, unknown>;

const big = (value: unknown): bigint => BigInt(value as string);
const bigOrNull = (value: unknown): bigint | null => (value === null || value === undefined ? null : BigInt(value as string));
const time = (value: unknown): Date => new Date(value as string);
const timeOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(value as string));
const str = (value: unknown): string => value as string;
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function decodeUsage(value: unknown): UsageDetails | null {
  if (value === null || value === undefined) return null;
  const u = value as Json;
  return {
    model: str(u.model),
    inputTokens: big(u.inputTokens),
    cachedInputTokens: big(u.cachedInputTokens),
    outputTokens: big(u.outputTokens),
    reasoningTokens: big(u.reasoningTokens),
    providerCostNanoUsd: big(u.providerCostNanoUsd),
    markupBps: Number(u.markupBps),
    catalogVersion: str(u.catalogVersion),
    generationId: strOrNull(u.generationId),
    keySource: u.keySource === 'byok' ? 'byok' : 'managed',
  };
}

export function encodeUsage(usage: UsageDetails | null): string | null {
  if (!usage) return null;
  return JSON.stringify(usage, (_, value) => (typeof value === 'bigint' ? value.toString() : value));
}

export function decodeEntry(value: unknown): Entry {
  const e = value as Json;
  return {
    id: str(e.id),
    operationId: str(e.operationId),
    customerId: str(e.customerId),
    kind: e.kind as EntryKind,
    fromAccount: str(e.fromAccount),
    toAccount: str(e.toAccount),
    amountMicros: big(e.amountMicros),
    bucketId: strOrNull(e.bucketId),
    bucketDeltaMicros: big(e.bucketDeltaMicros),
    holdId: strOrNull(e.holdId),
    description: strOrNull(e.description),
    usage: decodeUsage(e.usage),
    createdAt: time(e.createdAt),
  };
}

export function decodeBucket(value: unknown): Bucket {
  const b = value as Json;
  return {
    id: str(b.id),
    customerId: str(b.customerId),
    kind: b.kind as BucketKind,
    grantedMicros: big(b.grantedMicros),
    remainingMicros: big(b.remainingMicros),
    expiresAt: timeOrNull(b.expiresAt),
    createdAt: time(b.createdAt),
  };
}

export function decodeHold(value: unknown): Hold {
  const h = value as Json;
  return {
    id: str(h.id),
    customerId: str(h.customerId),
    amountMicros: big(h.amountMicros),
    status: h.status as HoldStatus,
    capturedMicros: bigOrNull(h.capturedMicros),
    expiresAt: time(h.expiresAt),
    createdAt: time(h.createdAt),
    settledAt: timeOrNull(h.settledAt),
  };
}

export function decodeSnapshot(value: unknown): BalanceSnapshot {
  const s = value as Json;
  return { balanceMicros: big(s.balanceMicros), heldMicros: big(s.heldMicros), debtMicros: big(s.debtMicros) };
}

export function decodeCustomer(value: unknown): CustomerRecord {
  const c = value as Json;
  return {
    id: str(c.id),
    tier: str(c.tier),
    overdraftLimitMicros: big(c.overdraftLimitMicros),
    unlimited: Boolean(c.unlimited),
    createdAt: time(c.createdAt),
  };
}

function operation(value: Json) {
  return {
    operationId: str(value.operationId),
    entries: (value.entries as unknown[]).map(decodeEntry),
    balance: decodeSnapshot(value.balance),
    replayed: value.replayed === true,
  };
}

export function decodeCharge(value: unknown): ChargeResult {
  const r = value as Json;
  return { ...operation(r), chargedMicros: big(r.chargedMicros), debtMicros: big(r.debtMicros) };
}

export function decodeGrant(value: unknown): GrantResult {
  const r = value as Json;
  return { ...operation(r), bucket: decodeBucket(r.bucket) };
}

export function decodeCapture(value: unknown): CaptureResult {
  const r = value as Json;
  return { ...decodeCharge(r), hold: decodeHold(r.hold) };
}

export function decodeHoldResult(value: unknown): HoldResult {
  const r = value as Json;
  return { hold: decodeHold(r.hold), balance: decodeSnapshot(r.balance), replayed: r.replayed === true };
}

export function decodeBalance(value: unknown): Balance {
  const b = value as Json;
  return {
    customerId: str(b.customerId),
    tier: str(b.tier),
    overdraftLimitMicros: big(b.overdraftLimitMicros),
    unlimited: Boolean(b.unlimited),
    balanceMicros: big(b.balanceMicros),
    heldMicros: big(b.heldMicros),
    debtMicros: big(b.debtMicros),
    availableMicros: big(b.availableMicros),
    buckets: (b.buckets as unknown[]).map(decodeBucket),
    activeHolds: Number(b.activeHolds),
  };
}

export interface OutboxRow {
  id: string;
  topic: string;
  payload: string;
  dedupe_key: string;
  attempts: number;
  created_at: Date | string;
  available_at: Date | string;
  delivered_at: Date | string | null;
  last_error: string | null;
  dead: boolean;
}

export function decodeOutbox(row: OutboxRow): OutboxMessage {
  return {
    id: String(row.id),
    topic: row.topic,
    payload: row.payload,
    dedupeKey: row.dedupe_key,
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at),
    availableAt: new Date(row.available_at),
    deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at),
    lastError: row.last_error,
    dead: row.dead,
  };
}

export type { AuditReport };
