import { parseCredits, TallyError } from '@tally/core';
import { CreditAmount, useSetSpendCap, useSpendCaps } from '@tally/react';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { microsToDecimal } from '../credits.ts';
import { errorMessage } from '../demo-api.ts';
import { ErrorNotice, Loading } from '../page.tsx';

/**
 * A cap as typed (credits, up to 6 decimals; empty for no cap) → micros, exactly. Negative, zero or
 * malformed amounts are a `VALIDATION` error and nothing is sent.
 */
export function capToMicros(input: string, label: string): string | null {
  const text = input.trim();
  if (text === '') return null;
  let micros: bigint;
  try {
    micros = parseCredits(text);
  } catch {
    throw new TallyError('VALIDATION', `${label}: enter an amount of credits like 5 or 2.5, or leave it empty for no cap.`);
  }
  if (micros <= 0n) throw new TallyError('VALIDATION', `${label}: a cap must be more than 0 credits; leave it empty for no cap.`);
  return micros.toString();
}

/** The customer's own daily and monthly spend caps, with what has been counted against them. */
export function SpendCapsForm() {
  const caps = useSpendCaps();
  const save = useSetSpendCap();
  const own = caps.data?.find((cap) => cap.scope.kind === 'customer') ?? null;
  const [daily, setDaily] = useState('');
  const [monthly, setMonthly] = useState('');
  const [invalid, setInvalid] = useState<{ field: 'daily' | 'monthly'; error: TallyError } | null>(null);
  const [saved, setSaved] = useState(false);
  const titleId = useId();
  const dailyId = useId();
  const monthlyId = useId();
  const hintId = useId();

  const dailyMicros = own?.dailyMicros ?? null;
  const monthlyMicros = own?.monthlyMicros ?? null;
  // The form starts from what is saved, and again after each save.
  useEffect(() => {
    setDaily(dailyMicros === null ? '' : microsToDecimal(dailyMicros));
    setMonthly(monthlyMicros === null ? '' : microsToDecimal(monthlyMicros));
  }, [dailyMicros, monthlyMicros]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (save.status === 'pending') return;
    setSaved(false);
    const input: { dailyMicros: string | null; monthlyMicros: string | null } = { dailyMicros: null, monthlyMicros: null };
    for (const [field, text, label] of [
      ['daily', daily, 'Daily cap'],
      ['monthly', monthly, 'Monthly cap'],
    ] as const) {
      try {
        input[field === 'daily' ? 'dailyMicros' : 'monthlyMicros'] = capToMicros(text, label);
      } catch (error) {
        setInvalid({ field, error: error as TallyError });
        return;
      }
    }
    setInvalid(null);
    try {
      await save.mutate(input);
      setSaved(true);
    } catch {
      // Shown from save.error.
    }
  };

  return (
    <section className="tally-card" aria-labelledby={titleId} aria-busy={caps.fetching || undefined}>
      <h2 id={titleId} className="tally-card__title">
        Spend caps
      </h2>
      <p id={hintId} className="tally-muted">
        Calls that would pass a cap are refused. Leave a field empty for no cap.
      </p>
      {caps.status === 'loading' ? (
        <Loading label="Loading your spend caps…" />
      ) : caps.status === 'error' && !caps.data ? (
        <ErrorNotice error={caps.error} title="Your spend caps could not be loaded." onRetry={caps.refetch} />
      ) : (
        <form className="tally-form" onSubmit={submit} aria-describedby={hintId}>
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={dailyId}>
              Daily cap (credits)
            </label>
            <input
              id={dailyId}
              className="tally-input"
              inputMode="decimal"
              autoComplete="off"
              value={daily}
              aria-invalid={invalid?.field === 'daily' || undefined}
              onChange={(event) => setDaily(event.target.value)}
            />
            {own ? (
              <p className="tally-muted dash-hint">
                Used today: <CreditAmount micros={BigInt(own.usedTodayMicros)} />
              </p>
            ) : null}
          </div>
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={monthlyId}>
              Monthly cap (credits)
            </label>
            <input
              id={monthlyId}
              className="tally-input"
              inputMode="decimal"
              autoComplete="off"
              value={monthly}
              aria-invalid={invalid?.field === 'monthly' || undefined}
              onChange={(event) => setMonthly(event.target.value)}
            />
            {own ? (
              <p className="tally-muted dash-hint">
                Used this month: <CreditAmount micros={BigInt(own.usedThisMonthMicros)} />
              </p>
            ) : null}
          </div>
          <div className="dash-row">
            <button type="submit" className="tally-button" aria-disabled={save.status === 'pending' || undefined}>
              {save.status === 'pending' ? 'Saving…' : 'Save caps'}
            </button>
          </div>
          <div role="status" className="dash-form-status">
            {invalid ? (
              <p className="tally-note" data-tone="negative">
                {invalid.error.message}
              </p>
            ) : save.status === 'error' ? (
              <p className="tally-note" data-tone="negative">
                {errorMessage(save.error)}
              </p>
            ) : saved ? (
              <p className="tally-note" data-tone="positive">
                Spend caps saved.
              </p>
            ) : null}
          </div>
        </form>
      )}
    </section>
  );
}
