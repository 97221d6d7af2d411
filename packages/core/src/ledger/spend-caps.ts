/**
 * Spend caps (docs/ledger.md, "Spend caps"): the parts every store shares — scopes, UTC windows, the
 * limit check and its error. The stores keep one counter row per (customer, scope) and do the check
 * under the customer's lock, in the same transaction as the hold or charge it guards.
 */

import { TallyError } from '../errors/index.js';
import type { SetSpendCapCommand, SpendCapScope } from './types.js';
import { identifier, MAX_AMOUNT_MICROS } from './validate.js';

/** Row keys: the customer's total, the default for each end user, or one end user's id. */
export const CUSTOMER_SCOPE = '';
export const EACH_END_USER_SCOPE = '*';

export function scopeKey(scope: SpendCapScope): string {
  if (scope.kind === 'customer') return CUSTOMER_SCOPE;
  if (scope.kind === 'each-end-user') return EACH_END_USER_SCOPE;
  return scope.endUserId;
}

export function scopeOf(key: string): SpendCapScope {
  if (key === CUSTOMER_SCOPE) return { kind: 'customer' };
  if (key === EACH_END_USER_SCOPE) return { kind: 'each-end-user' };
  return { kind: 'end-user', endUserId: key };
}

/** `endUserId` of a command: absent or null, else an identifier other than the reserved `*`. */
export function endUserOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const id = identifier(value, 'endUserId');
  if (id === EACH_END_USER_SCOPE) {
    throw new TallyError('VALIDATION', 'endUserId "*" is reserved for the each-end-user cap', { details: { field: 'endUserId' } });
  }
  return id;
}

function limit(value: unknown, field: string): bigint | null {
  if (value === null) return null;
  if (typeof value !== 'bigint' || value <= 0n || value > MAX_AMOUNT_MICROS) {
    throw new TallyError('VALIDATION', `${field} must be null or a positive number of micros of at most ${MAX_AMOUNT_MICROS}`, {
      details: { field },
    });
  }
  return value;
}

/** Checks a `setSpendCap` command; returns its row key and limits. */
export function validateSpendCap(command: SetSpendCapCommand): { key: string; daily: bigint | null; monthly: bigint | null } {
  const scope = command.scope as SpendCapScope | undefined;
  let key: string;
  if (scope?.kind === 'customer' || scope?.kind === 'each-end-user') key = scopeKey(scope);
  else if (scope?.kind === 'end-user') key = endUserOf(scope.endUserId) ?? '';
  else throw new TallyError('VALIDATION', 'scope must be customer, end-user or each-end-user', { details: { field: 'scope' } });
  if (key === '' && scope.kind === 'end-user') {
    throw new TallyError('VALIDATION', 'an end-user scope needs an endUserId', { details: { field: 'scope.endUserId' } });
  }
  return { key, daily: limit(command.dailyMicros, 'dailyMicros'), monthly: limit(command.monthlyMicros, 'monthlyMicros') };
}

/** Start of the UTC day and UTC month containing `at` (ms since the epoch). */
export function capWindows(at: Date): { day: number; month: number } {
  const t = at.getTime();
  const d = new Date(t);
  return {
    day: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()),
    month: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
  };
}

export interface CapCounter {
  daily: bigint | null;
  monthly: bigint | null;
  /** False for a row that only counts an end user's spend under the each-end-user default. */
  explicit: boolean;
  dayStart: number;
  dayUsed: bigint;
  monthStart: number;
  monthUsed: bigint;
  updatedAt: Date;
}

/** What a counter has used in the windows containing `at` (a row from an earlier window counts 0). */
export function usedAt(counter: CapCounter | undefined, at: Date): { today: bigint; month: bigint } {
  if (!counter) return { today: 0n, month: 0n };
  const w = capWindows(at);
  return {
    today: counter.dayStart === w.day ? counter.dayUsed : 0n,
    month: counter.monthStart === w.month ? counter.monthUsed : 0n,
  };
}

/**
 * The counter after `amount` was charged at `at`: a newer window starts from zero; a charge dated in a
 * window the row has already left (another instance's clock behind) counts in neither.
 */
export function countedAt(
  counter: CapCounter,
  amount: bigint,
  at: Date,
): Pick<CapCounter, 'dayStart' | 'dayUsed' | 'monthStart' | 'monthUsed'> {
  const w = capWindows(at);
  const day =
    w.day > counter.dayStart
      ? { dayStart: w.day, dayUsed: amount }
      : { dayStart: counter.dayStart, dayUsed: counter.dayUsed + (w.day === counter.dayStart ? amount : 0n) };
  const month =
    w.month > counter.monthStart
      ? { monthStart: w.month, monthUsed: amount }
      : { monthStart: counter.monthStart, monthUsed: counter.monthUsed + (w.month === counter.monthStart ? amount : 0n) };
  return { ...day, ...month };
}

export interface CapCheck {
  customerId: string;
  /** null: the customer's total. */
  endUserId: string | null;
  daily: bigint | null;
  monthly: bigint | null;
  used: { today: bigint; month: bigint };
  heldMicros: bigint;
  requestedMicros: bigint;
  at: Date;
}

/** Throws `SPEND_CAP_EXCEEDED` when the request would take a scope past its daily or monthly cap. */
export function checkCap(check: CapCheck): void {
  const periods = [
    ['day', check.daily, check.used.today],
    ['month', check.monthly, check.used.month],
  ] as const;
  for (const [period, cap, used] of periods) {
    if (cap === null || used + check.heldMicros + check.requestedMicros <= cap) continue;
    const w = capWindows(check.at);
    const start = new Date(period === 'day' ? w.day : w.month);
    const resetsAt =
      period === 'day' ? new Date(w.day + 86_400_000) : new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const who =
      check.endUserId === null ? `Customer "${check.customerId}"` : `End user "${check.endUserId}" of customer "${check.customerId}"`;
    throw new TallyError(
      'SPEND_CAP_EXCEEDED',
      `${who} would pass its ${period === 'day' ? 'daily' : 'monthly'} cap of ${cap} micros (used ${used}, held ${check.heldMicros}, requested ${check.requestedMicros})`,
      {
        details: {
          customerId: check.customerId,
          endUserId: check.endUserId,
          period,
          capMicros: cap.toString(),
          usedMicros: used.toString(),
          heldMicros: check.heldMicros.toString(),
          requestedMicros: check.requestedMicros.toString(),
          resetsAt: resetsAt.toISOString(),
        },
      },
    );
  }
}
