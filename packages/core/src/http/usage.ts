import { TallyError } from '../errors/index.js';
import type { Tally } from '../ledger/tally.js';
import type { Entry } from '../ledger/types.js';
import type { WireUsage, WireUsageRow } from './wire.js';

const DAY_MS = 86_400_000;
/** A year and a day: a leap year's usage fits in one request. */
export const MAX_USAGE_RANGE_DAYS = 366;
export const DEFAULT_USAGE_RANGE_DAYS = 30;
/** Charges without a model (a plain `spend`) are grouped under this key. */
export const UNMETERED_KEY = '(none)';

const CHARGE_KINDS = ['spend', 'usage', 'capture'] as const;
const PAGE = 500;

interface Operation {
  key: string;
  charged: bigint;
  usage: Entry['usage'];
}

/** The default end: the start of the next UTC day, so the default range holds today whole. */
function endOfToday(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

function range(now: Date, fromText: string | undefined, toText: string | undefined): { from: Date; to: Date } {
  const to = toText === undefined ? endOfToday(now) : new Date(toText);
  const from = fromText === undefined ? new Date(to.getTime() - DEFAULT_USAGE_RANGE_DAYS * DAY_MS) : new Date(fromText);
  if (!Number.isFinite(to.getTime()) || !Number.isFinite(from.getTime())) {
    throw new TallyError('VALIDATION', 'from and to must be valid ISO 8601 times', { issues: [{ path: ['from'], message: 'not a time' }] });
  }
  if (from.getTime() >= to.getTime()) {
    throw new TallyError('VALIDATION', 'from must be before to', { issues: [{ path: ['from'], message: 'must be before to' }] });
  }
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * DAY_MS) {
    throw new TallyError('VALIDATION', `from and to may be at most ${MAX_USAGE_RANGE_DAYS} days apart`, {
      issues: [{ path: ['to'], message: `at most ${MAX_USAGE_RANGE_DAYS} days after from` }],
    });
  }
  return { from, to };
}

/**
 * The customer's charges (spend, usage and capture entries) in [from, to), one row per model or per
 * UTC day. Default range: the 30 UTC days up to and including today. A charge that drained several buckets wrote several entries of one operation: it counts as
 * one call, its tokens once, and the credits of all its entries. An unlimited customer's charges count
 * what the calls cost, though no credit was taken.
 */
export async function usageReport(
  tally: Tally,
  customerId: string,
  now: Date,
  query: { from?: string | undefined; to?: string | undefined; groupBy?: 'model' | 'day' | undefined },
): Promise<WireUsage> {
  const { from, to } = range(now, query.from, query.to);
  const groupBy = query.groupBy ?? 'model';
  const operations = new Map<string, Operation>();
  let cursor: string | undefined;
  do {
    const page = await tally.transactions({ customerId, kinds: [...CHARGE_KINDS], from, to, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const entry of page.items) {
      const known = operations.get(entry.operationId);
      if (known) {
        known.charged += entry.amountMicros;
        known.usage ??= entry.usage;
        continue;
      }
      const key = groupBy === 'day' ? entry.createdAt.toISOString().slice(0, 10) : (entry.usage?.model ?? UNMETERED_KEY);
      operations.set(entry.operationId, { key, charged: entry.amountMicros, usage: entry.usage });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);

  const rows = new Map<string, { calls: number; input: bigint; output: bigint; charged: bigint; cost: bigint }>();
  let total = 0n;
  for (const operation of operations.values()) {
    const row = rows.get(operation.key) ?? { calls: 0, input: 0n, output: 0n, charged: 0n, cost: 0n };
    row.calls++;
    row.input += operation.usage?.inputTokens ?? 0n;
    row.output += operation.usage?.outputTokens ?? 0n;
    row.cost += operation.usage?.providerCostNanoUsd ?? 0n;
    row.charged += operation.charged;
    total += operation.charged;
    rows.set(operation.key, row);
  }
  const wireRows: WireUsageRow[] = [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, row]) => ({
      key,
      calls: row.calls,
      inputTokens: row.input.toString(),
      outputTokens: row.output.toString(),
      chargedMicros: row.charged.toString(),
      providerCostNanoUsd: row.cost.toString(),
    }));
  return { from: from.toISOString(), to: to.toISOString(), groupBy, rows: wireRows, totalChargedMicros: total.toString() };
}
