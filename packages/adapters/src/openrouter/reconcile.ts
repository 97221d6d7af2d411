import { type Entry, TallyError, type TallyStore } from '@tally/core';
import type { OpenRouterClient, OpenRouterGeneration } from './client.js';

export interface ReconcileProgress {
  /** Ledger pages read so far. */
  pages: number;
  /** Usage and capture entries read so far. */
  entriesScanned: number;
  /** Managed calls with a generation id found so far (one per operation). */
  calls: number;
  /** Of those, the calls whose generation lookup has finished (compared, missing or failed). */
  checked: number;
}

export interface ReconcileOptions {
  /** Only `listEntries` is used. */
  store: Pick<TallyStore, 'listEntries'>;
  /** Only `getGeneration` is used. */
  client: Pick<OpenRouterClient, 'getGeneration'>;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  customerId?: string;
  /** Generation lookups in flight at most. Default 4. */
  concurrency?: number;
  /** A call whose |reported − charged| exceeds this is a mismatch. Default 0 (any difference). */
  toleranceNanoUsd?: bigint;
  /** Ledger entries read per page. Default 200. */
  pageSize?: number;
  /** Called after each ledger page and each finished lookup. */
  onProgress?: (progress: ReconcileProgress) => void;
}

/** One managed call compared with OpenRouter. Amounts are nano-USD; drift = reported − charged. */
export interface ReconciledCall {
  operationId: string;
  customerId: string;
  /** The model the ledger charged for. */
  model: string;
  /** The model OpenRouter reports (differs for a router such as `openrouter/auto`); `null` for a duplicate. */
  reportedModel: string | null;
  generationId: string;
  createdAt: Date;
  chargedNanoUsd: bigint;
  reportedNanoUsd: bigint;
  driftNanoUsd: bigint;
  /**
   * Set when another operation, listed before this one (the ledger lists newest first), charged
   * the same generation: OpenRouter billed it once, so this call is compared against 0 and a
   * double charge shows as negative drift.
   */
  duplicateOf: string | null;
}

/** A managed call whose cost OpenRouter did not give. */
export interface UncheckedCall {
  operationId: string;
  customerId: string;
  model: string;
  generationId: string;
  createdAt: Date;
  chargedNanoUsd: bigint;
  error: { code: string; message: string };
}

/** Compared calls summed by model or by customer. */
export interface DriftGroup {
  /** The model id or the customer id. */
  key: string;
  calls: number;
  chargedNanoUsd: bigint;
  reportedNanoUsd: bigint;
  driftNanoUsd: bigint;
  /** drift ÷ charged in parts per million, rounded half away from zero; `null` when nothing was charged. */
  driftPpm: bigint | null;
  beyondTolerance: number;
}

export interface ReconcileTotals {
  entriesScanned: number;
  /** Managed calls compared with OpenRouter's cost. */
  compared: number;
  chargedNanoUsd: bigint;
  reportedNanoUsd: bigint;
  driftNanoUsd: bigint;
  driftPpm: bigint | null;
  /** Compared calls with |drift| > tolerance (the `mismatches`). */
  beyondTolerance: number;
  /** Generations OpenRouter does not know (`NOT_FOUND` after polling). */
  missing: number;
  /** Lookups that failed otherwise (e.g. `PROVIDER_REJECTED`). */
  failed: number;
  /** Provider cost charged on missing and failed calls. */
  uncheckedChargedNanoUsd: bigint;
  /** Found but not looked up because the run stopped (only in a partial report). */
  pending: number;
  /** BYOK calls: paid by the customer's own key, counted but not compared. */
  byokCalls: number;
  byokProviderCostNanoUsd: bigint;
  /** Managed calls recorded without a generation id: nothing to compare with. */
  withoutGenerationId: number;
}

export interface ReconcileReport {
  from: Date;
  to: Date;
  customerId: string | null;
  toleranceNanoUsd: bigint;
  /** `false` only on the partial report attached to a `PROVIDER_UNAVAILABLE` error. */
  complete: boolean;
  totals: ReconcileTotals;
  /** Sorted by |drift|, largest first, then by key. */
  byModel: DriftGroup[];
  byCustomer: DriftGroup[];
  /** Compared calls beyond tolerance, by |drift|, largest first, then by operation id. */
  mismatches: ReconciledCall[];
  /** In ledger order (newest first). */
  missing: UncheckedCall[];
  failed: UncheckedCall[];
}

interface Call {
  operationId: string;
  customerId: string;
  model: string;
  generationId: string;
  createdAt: Date;
  chargedNanoUsd: bigint;
}

type Lookup = { ok: true; generation: OpenRouterGeneration } | { ok: false; error: TallyError };

const MAX_PAGE_SIZE = 500;

const abs = (value: bigint) => (value < 0n ? -value : value);

/** numerator × 1e6 ÷ denominator, rounded half away from zero; null for a zero denominator. */
function ppm(numerator: bigint, denominator: bigint): bigint | null {
  if (denominator === 0n) return null;
  const negative = numerator < 0n !== denominator < 0n;
  const n = abs(numerator) * 1_000_000n;
  const d = abs(denominator);
  const rounded = (n * 2n + d) / (d * 2n);
  return negative ? -rounded : rounded;
}

function validDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TallyError('VALIDATION', `${field} must be a valid Date`);
  return value;
}

function checkOptions(options: ReconcileOptions) {
  if (typeof options?.store?.listEntries !== 'function') throw new TallyError('VALIDATION', 'store must have listEntries');
  if (typeof options.client?.getGeneration !== 'function') throw new TallyError('VALIDATION', 'client must have getGeneration');
  const from = validDate(options.from, 'from');
  const to = validDate(options.to, 'to');
  if (from.getTime() >= to.getTime()) throw new TallyError('VALIDATION', 'from must be before to');
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new TallyError('VALIDATION', 'concurrency must be a positive integer');
  const pageSize = options.pageSize ?? 200;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new TallyError('VALIDATION', `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const tolerance = options.toleranceNanoUsd ?? 0n;
  if (typeof tolerance !== 'bigint' || tolerance < 0n) throw new TallyError('VALIDATION', 'toleranceNanoUsd must be a non-negative bigint');
  const customerId = options.customerId;
  if (customerId !== undefined && (typeof customerId !== 'string' || customerId === '')) {
    throw new TallyError('VALIDATION', 'customerId must be a non-empty string');
  }
  return { from, to, concurrency, pageSize, tolerance, customerId };
}

class Groups {
  private readonly groups = new Map<string, DriftGroup>();

  add(key: string, call: ReconciledCall, beyond: boolean) {
    let group = this.groups.get(key);
    if (!group) {
      group = { key, calls: 0, chargedNanoUsd: 0n, reportedNanoUsd: 0n, driftNanoUsd: 0n, driftPpm: null, beyondTolerance: 0 };
      this.groups.set(key, group);
    }
    group.calls++;
    group.chargedNanoUsd += call.chargedNanoUsd;
    group.reportedNanoUsd += call.reportedNanoUsd;
    group.driftNanoUsd += call.driftNanoUsd;
    if (beyond) group.beyondTolerance++;
  }

  sorted(): DriftGroup[] {
    return [...this.groups.values()]
      .map((group) => ({ ...group, driftPpm: ppm(group.driftNanoUsd, group.chargedNanoUsd) }))
      .sort((a, b) => {
        const byDrift = abs(b.driftNanoUsd) - abs(a.driftNanoUsd);
        if (byDrift !== 0n) return byDrift > 0n ? 1 : -1;
        return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      });
  }
}

/**
 * Compares what the ledger charged as provider cost for each managed OpenRouter call in
 * [from, to) with the cost OpenRouter reports for its generation (`GET /generation`).
 *
 * One call is one operation: the entries an operation wrote (one per bucket drained) share its
 * usage and are counted once. BYOK calls and calls without a generation id are counted, not
 * compared. A generation that OpenRouter does not know is listed in `missing`; any other failed
 * lookup in `failed`. `PROVIDER_UNAVAILABLE` (an outage, an open circuit) stops the run: no new
 * lookups start, those in flight finish, later ledger pages are not read, and it throws
 * `PROVIDER_UNAVAILABLE` whose `details.report` is the partial report (`complete: false`; calls
 * found but not looked up are counted in `totals.pending`).
 */
export async function reconcileProviderCosts(options: ReconcileOptions): Promise<ReconcileReport> {
  const { from, to, concurrency, pageSize, tolerance, customerId } = checkOptions(options);
  const { store, client, onProgress } = options;

  const totals: ReconcileTotals = {
    entriesScanned: 0,
    compared: 0,
    chargedNanoUsd: 0n,
    reportedNanoUsd: 0n,
    driftNanoUsd: 0n,
    driftPpm: null,
    beyondTolerance: 0,
    missing: 0,
    failed: 0,
    uncheckedChargedNanoUsd: 0n,
    pending: 0,
    byokCalls: 0,
    byokProviderCostNanoUsd: 0n,
    withoutGenerationId: 0,
  };
  const byModel = new Groups();
  const byCustomer = new Groups();
  const mismatches: ReconciledCall[] = [];
  const missing: UncheckedCall[] = [];
  const failed: UncheckedCall[] = [];
  const progress: ReconcileProgress = { pages: 0, entriesScanned: 0, calls: 0, checked: 0 };

  const seenOperations = new Set<string>();
  /** The first operation listed for each generation: a later one charging it again is a duplicate. */
  const firstCharge = new Map<string, string>();
  const lookups = new Map<string, Promise<Lookup>>();
  let outage: TallyError | null = null;

  function lookup(generationId: string): Promise<Lookup> {
    let pending = lookups.get(generationId);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => client.getGeneration(generationId))
        .then(
          (generation): Lookup => ({ ok: true, generation }),
          (error: unknown): Lookup => ({
            ok: false,
            error: TallyError.is(error)
              ? error
              : new TallyError(
                  'INTERNAL',
                  `Looking up generation ${generationId} failed: ${error instanceof Error ? error.message : String(error)}`,
                  {
                    cause: error,
                  },
                ),
          }),
        );
      lookups.set(generationId, pending);
    }
    return pending;
  }

  function compare(call: Call, reportedNanoUsd: bigint, reportedModel: string | null, duplicateOf: string | null) {
    const driftNanoUsd = reportedNanoUsd - call.chargedNanoUsd;
    const reconciled: ReconciledCall = { ...call, reportedModel, reportedNanoUsd, driftNanoUsd, duplicateOf };
    const beyond = abs(driftNanoUsd) > tolerance;
    totals.compared++;
    totals.chargedNanoUsd += call.chargedNanoUsd;
    totals.reportedNanoUsd += reportedNanoUsd;
    totals.driftNanoUsd += driftNanoUsd;
    byModel.add(call.model, reconciled, beyond);
    byCustomer.add(call.customerId, reconciled, beyond);
    if (beyond) {
      totals.beyondTolerance++;
      mismatches.push(reconciled);
    }
  }

  async function check(call: Call): Promise<void> {
    const duplicateOf = firstCharge.get(call.generationId) ?? null;
    if (duplicateOf === null) firstCharge.set(call.generationId, call.operationId);
    const result = await lookup(call.generationId);
    if (result.ok) {
      if (duplicateOf === null) compare(call, result.generation.totalCostNanoUsd, result.generation.model, null);
      else compare(call, 0n, null, duplicateOf);
    } else if (result.error.code === 'PROVIDER_UNAVAILABLE') {
      outage ??= result.error;
      totals.pending++;
      return;
    } else {
      const unchecked: UncheckedCall = { ...call, error: { code: result.error.code, message: result.error.message } };
      totals.uncheckedChargedNanoUsd += call.chargedNanoUsd;
      if (result.error.code === 'NOT_FOUND') {
        totals.missing++;
        missing.push(unchecked);
      } else {
        totals.failed++;
        failed.push(unchecked);
      }
    }
    progress.checked++;
    onProgress?.({ ...progress });
  }

  /** Checks `calls` with at most `concurrency` lookups in flight; stops taking new ones on an outage. */
  async function checkAll(calls: Call[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (outage === null && next < calls.length) {
        const call = calls[next++] as Call;
        await check(call);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, calls.length) }, worker));
    totals.pending += calls.length - next;
  }

  /** The call an entry belongs to, or null when it was counted already or is not compared. */
  function callOf(entry: Entry): Call | null {
    const usage = entry.usage;
    if (usage === null || seenOperations.has(entry.operationId)) return null;
    seenOperations.add(entry.operationId);
    if (usage.keySource === 'byok') {
      totals.byokCalls++;
      totals.byokProviderCostNanoUsd += usage.providerCostNanoUsd;
      return null;
    }
    if (usage.generationId === null || usage.generationId === '') {
      totals.withoutGenerationId++;
      return null;
    }
    return {
      operationId: entry.operationId,
      customerId: entry.customerId,
      model: usage.model,
      generationId: usage.generationId,
      createdAt: entry.createdAt,
      chargedNanoUsd: usage.providerCostNanoUsd,
    };
  }

  function report(complete: boolean): ReconcileReport {
    const ordered = [...mismatches].sort((a, b) => {
      const byDrift = abs(b.driftNanoUsd) - abs(a.driftNanoUsd);
      if (byDrift !== 0n) return byDrift > 0n ? 1 : -1;
      return a.operationId < b.operationId ? -1 : a.operationId > b.operationId ? 1 : 0;
    });
    return {
      from,
      to,
      customerId: customerId ?? null,
      toleranceNanoUsd: tolerance,
      complete,
      totals: { ...totals, driftPpm: ppm(totals.driftNanoUsd, totals.chargedNanoUsd) },
      byModel: byModel.sorted(),
      byCustomer: byCustomer.sorted(),
      mismatches: ordered,
      missing: [...missing],
      failed: [...failed],
    };
  }

  let cursor: string | undefined;
  do {
    const page = await store.listEntries({
      kinds: ['usage', 'capture'],
      from,
      to,
      limit: pageSize,
      ...(customerId !== undefined ? { customerId } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    progress.pages++;
    progress.entriesScanned += page.items.length;
    totals.entriesScanned += page.items.length;
    const calls: Call[] = [];
    for (const entry of page.items) {
      const call = callOf(entry);
      if (call) calls.push(call);
    }
    progress.calls += calls.length;
    onProgress?.({ ...progress });
    await checkAll(calls);
    if (outage !== null) {
      const cause: TallyError = outage;
      throw new TallyError('PROVIDER_UNAVAILABLE', `Reconciliation stopped: ${cause.message}`, {
        cause,
        details: { ...cause.details, report: report(false) },
      });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);

  return report(true);
}
