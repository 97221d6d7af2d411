import { TallyError } from '../errors/index.js';

/**
 * The TallyError a promise rejects with, for tests that look at its code and details:
 * `expect((await tallyRejection(tally.spend(…))).code).toBe('INSUFFICIENT_CREDITS')`. Throws when the
 * promise resolves or rejects with anything else, so a test cannot pass on the wrong failure.
 */
export async function tallyRejection(promise: Promise<unknown>): Promise<TallyError> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (reason: unknown) => ({ resolved: false as const, reason }),
  );
  if (outcome.resolved) throw new Error('expected a TallyError, but the promise resolved');
  if (!TallyError.is(outcome.reason)) throw new Error(`expected a TallyError, got ${String(outcome.reason)}`);
  return outcome.reason;
}
