import { TallyError } from '@tally/core';
import type { WireCoupon } from '@tally/core/http';
import { useTallyQuery } from '@tally/react';
import { type FormEvent, type InputHTMLAttributes, useId, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { microsToDecimal } from '../credits.ts';
import { errorMessage } from '../demo-api.ts';
import { ErrorNotice, formatDateTime, Loading, Page, tierName } from '../page.tsx';
import { type CouponDraft, couponInput, EMPTY_COUPON } from './coupon-input.ts';

export const COUPONS_KEY = ['dashboard', 'admin', 'coupons'] as const;

export function benefitText(benefit: WireCoupon['benefit']): string {
  if (benefit.kind === 'credits') {
    const expiry = benefit.expiresInDays === null ? '' : `, expiring after ${benefit.expiresInDays} days`;
    return `${microsToDecimal(benefit.amountMicros)} credits${expiry}`;
  }
  const percent = `${benefit.percentOffBps / 100}`;
  return `${percent}% off for ${benefit.durationPeriods} ${benefit.durationPeriods === 1 ? 'period' : 'periods'}`;
}

function Field({
  id,
  label,
  hint,
  invalid,
  ...input
}: { id: string; label: string; hint?: string; invalid: boolean } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div className="tally-field">
      <label className="tally-field__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="tally-input"
        autoComplete="off"
        aria-invalid={invalid || undefined}
        aria-describedby={hint ? `${id}-hint` : undefined}
        {...input}
      />
      {hint ? (
        <p id={`${id}-hint`} className="tally-muted dash-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function CreateCouponForm() {
  const { client, cache } = useDashboard();
  const [draft, setDraft] = useState<CouponDraft>(EMPTY_COUPON);
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; coupon: WireCoupon } | { ok: false; error: unknown } | null>(null);
  const id = useId();
  const invalidField = outcome && !outcome.ok && TallyError.is(outcome.error, 'VALIDATION') ? outcome.error.issues[0]?.path[0] : undefined;
  const set = (field: keyof CouponDraft) => (event: { target: { value: string } }) =>
    setDraft((current) => ({ ...current, [field]: event.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    let input: ReturnType<typeof couponInput>;
    try {
      input = couponInput(draft);
    } catch (error) {
      setOutcome({ ok: false, error });
      return;
    }
    setPending(true);
    setOutcome(null);
    try {
      const coupon = await cache.mutate(() => client.admin.createCoupon(input), { invalidates: [COUPONS_KEY] });
      setOutcome({ ok: true, coupon });
      setDraft(EMPTY_COUPON);
    } catch (error) {
      setOutcome({ ok: false, error });
    } finally {
      setPending(false);
    }
  };

  return (
    <section className="tally-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="tally-card__title">
        New coupon
      </h2>
      <form className="tally-form" onSubmit={submit}>
        <Field
          id={`${id}-code`}
          label="Code"
          value={draft.code}
          onChange={set('code')}
          invalid={invalidField === 'code'}
          hint="Case does not matter: customers can type it either way."
        />
        <fieldset className="tally-choice-list">
          <legend className="tally-field__label">What it gives</legend>
          {(
            [
              ['credits', 'Credits'],
              ['percent_off', 'A discount on invoices'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="tally-choice">
              <input
                type="radio"
                className="tally-choice__input"
                name={`${id}-kind`}
                value={value}
                checked={draft.kind === value}
                onChange={() => setDraft((current) => ({ ...current, kind: value }))}
              />
              <span className="tally-choice__mark" aria-hidden="true" />
              <span className="tally-choice__text">{label}</span>
            </label>
          ))}
        </fieldset>
        {draft.kind === 'credits' ? (
          <div className="dash-grid dash-grid--tight">
            <Field
              id={`${id}-credits`}
              label="Amount of credits"
              inputMode="decimal"
              value={draft.credits}
              onChange={set('credits')}
              invalid={invalidField === 'credits'}
            />
            <Field
              id={`${id}-days`}
              label="Credits expire after (days)"
              inputMode="numeric"
              value={draft.expiresInDays}
              onChange={set('expiresInDays')}
              invalid={invalidField === 'expiresInDays'}
              hint="Empty: they never expire."
            />
          </div>
        ) : (
          <div className="dash-grid dash-grid--tight">
            <Field
              id={`${id}-percent`}
              label="Percent off"
              inputMode="decimal"
              value={draft.percent}
              onChange={set('percent')}
              invalid={invalidField === 'percent'}
            />
            <Field
              id={`${id}-periods`}
              label="For how many periods"
              inputMode="numeric"
              value={draft.durationPeriods}
              onChange={set('durationPeriods')}
              invalid={invalidField === 'durationPeriods'}
            />
          </div>
        )}
        <div className="dash-grid dash-grid--tight">
          <Field
            id={`${id}-max`}
            label="Redemptions at most"
            inputMode="numeric"
            value={draft.maxRedemptions}
            onChange={set('maxRedemptions')}
            invalid={invalidField === 'maxRedemptions'}
            hint="Empty: no limit."
          />
          <Field
            id={`${id}-expires`}
            label="Expires on (UTC)"
            type="date"
            value={draft.expiresOn}
            onChange={set('expiresOn')}
            invalid={invalidField === 'expiresOn'}
            hint="Works through the end of that day. Empty: never."
          />
        </div>
        <Field
          id={`${id}-tiers`}
          label="Only for plans"
          value={draft.tiers}
          onChange={set('tiers')}
          invalid={invalidField === 'tiers'}
          hint="Plan ids separated by commas, like starter, professional. Empty: every plan."
        />
        <div className="dash-row">
          <button type="submit" className="tally-button" aria-disabled={pending || undefined}>
            {pending ? 'Creating…' : 'Create coupon'}
          </button>
        </div>
        <div role="status" className="dash-form-status">
          {outcome ? (
            <p className="tally-note" data-tone={outcome.ok ? 'positive' : 'negative'}>
              {outcome.ok ? `Created ${outcome.coupon.code}: ${benefitText(outcome.coupon.benefit)}.` : errorMessage(outcome.error)}
            </p>
          ) : null}
        </div>
      </form>
    </section>
  );
}

function ActiveToggle({ coupon }: { coupon: WireCoupon }) {
  const { client, cache } = useDashboard();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const toggle = async () => {
    if (pending) return;
    setPending(true);
    setError(null);
    try {
      await cache.mutate(() => client.admin.setCouponActive(coupon.code, !coupon.active), { invalidates: [COUPONS_KEY] });
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  return (
    <span className="dash-cell-action">
      <button type="button" className="tally-button" data-variant="secondary" aria-disabled={pending || undefined} onClick={toggle}>
        {pending ? 'Saving…' : coupon.active ? `Deactivate ${coupon.code}` : `Activate ${coupon.code}`}
      </button>
      {error ? (
        <span role="alert" data-tone="negative">
          {errorMessage(error)}
        </span>
      ) : null}
    </span>
  );
}

/** The coupons with their use, switched on and off, and a form for a new one. */
export function CouponsAdminPage() {
  const { client } = useDashboard();
  const coupons = useTallyQuery(COUPONS_KEY, () => client.admin.coupons());
  const listId = useId();
  const list = coupons.data ?? [];
  return (
    <Page title="Coupons" intro="Codes customers redeem for credits or a discount on their next invoices.">
      <section className="dash-section" aria-labelledby={listId} aria-busy={coupons.fetching || undefined}>
        <h2 id={listId} className="dash-section-title">
          All coupons
        </h2>
        {coupons.status === 'loading' ? (
          <Loading label="Loading coupons…" />
        ) : coupons.status === 'error' && !coupons.data ? (
          <ErrorNotice error={coupons.error} title="The coupons could not be loaded." onRetry={() => void coupons.refetch()} />
        ) : list.length === 0 ? (
          <p className="dash-empty">No coupons yet.</p>
        ) : (
          <table className="dash-table">
            <caption className="dash-visually-hidden">Coupons, with what they give and how often they were used</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Gives</th>
                <th scope="col" data-align="end">
                  Redeemed
                </th>
                <th scope="col">Expires</th>
                <th scope="col">Plans</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="dash-visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((coupon) => (
                <tr key={coupon.code}>
                  <th scope="row" data-label="Code">
                    <code>{coupon.code}</code>
                  </th>
                  <td data-label="Gives">{benefitText(coupon.benefit)}</td>
                  <td data-label="Redeemed" data-align="end">
                    {coupon.redemptions}
                    {coupon.maxRedemptions === null ? '' : ` of ${coupon.maxRedemptions}`}
                  </td>
                  <td data-label="Expires">{coupon.expiresAt ? formatDateTime(coupon.expiresAt) : 'Never'}</td>
                  <td data-label="Plans">{coupon.tiers.length ? coupon.tiers.map(tierName).join(', ') : 'All'}</td>
                  <td data-label="Status">{coupon.active ? 'Active' : 'Inactive'}</td>
                  <td data-label="Actions" data-align="end">
                    <ActiveToggle coupon={coupon} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <CreateCouponForm />
    </Page>
  );
}
