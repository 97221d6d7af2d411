import { parseCredits, TallyError } from '@tally/core';

export const MAX_REASON = 500;

/**
 * An admin's credit change as typed, checked before anything is sent: an exact amount of credits
 * (a grant must be positive, an adjustment not zero) and a reason for the audit trail. Anything else
 * is a `VALIDATION` error naming the field.
 */
export function parseCreditChange(kind: 'grant' | 'adjust', amount: string, reason: string): { amountMicros: string; reason: string } {
  const text = amount.trim();
  let micros: bigint;
  try {
    micros = parseCredits(text);
  } catch {
    throw new TallyError('VALIDATION', 'Amount: enter credits as a plain number, like 5 or 2.5 (at most 6 decimals).', {
      issues: [{ path: ['amount'], message: 'not a number of credits' }],
    });
  }
  if (kind === 'grant' && micros <= 0n) {
    throw new TallyError('VALIDATION', 'Amount: a grant adds credits, so it must be more than 0.', {
      issues: [{ path: ['amount'], message: 'must be positive' }],
    });
  }
  if (kind === 'adjust' && micros === 0n) {
    throw new TallyError('VALIDATION', 'Amount: an adjustment of 0 changes nothing. Use a minus sign to take credits.', {
      issues: [{ path: ['amount'], message: 'must not be zero' }],
    });
  }
  const why = reason.trim();
  if (!why) {
    throw new TallyError('VALIDATION', 'Reason: say why, for the audit trail.', { issues: [{ path: ['reason'], message: 'required' }] });
  }
  if (why.length > MAX_REASON) {
    throw new TallyError('VALIDATION', `Reason: at most ${MAX_REASON} characters.`, {
      issues: [{ path: ['reason'], message: 'too long' }],
    });
  }
  return { amountMicros: micros.toString(), reason: why };
}
