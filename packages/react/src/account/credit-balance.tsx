import { CreditAmount } from '../credit-amount/credit-amount.js';
import { formatNanoUsdText, integer } from '../format/amounts.js';
import { formatDate } from '../format/dates.js';
import { providerName } from '../format/providers.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireBucket, WireMe } from '../provider/wire.js';
import { ErrorState, LoadingState } from '../status/status-views.js';
import { useMe } from './hooks.js';

export interface CreditBalanceProps {
  /** The heading. Default "Credit balance". */
  title?: string;
  /** Show where the credits come from (allowance, purchased, coupons, adjustments). Default true. */
  showBreakdown?: boolean;
  className?: string;
}

const BUCKET_LABELS: Record<WireBucket['kind'], string> = {
  allowance: 'Plan allowance',
  purchased: 'Purchased',
  coupon: 'Coupons',
  adjustment: 'Adjustments',
};

const STATUS_LABELS: Record<string, string> = { trialing: 'Trial', past_due: 'Payment past due', canceled: 'Canceled' };

/**
 * The credits the customer can spend now, the plan, where the credits come from, what is held for
 * calls in progress, any debt, and the balance left on their own provider keys.
 */
export function CreditBalance({ title = 'Credit balance', showBreakdown = true, className }: CreditBalanceProps) {
  const me = useMe();
  return (
    <section className={cx('tally-card tally-credit-balance', className)} aria-label={title} aria-busy={me.fetching || undefined}>
      <h2 className="tally-card__title">{title}</h2>
      {me.status === 'loading' ? (
        <LoadingState label="Loading your balance…" lines={2} />
      ) : me.status === 'error' && !me.data ? (
        <ErrorState error={me.error} title="Your balance could not be loaded." onRetry={me.refetch} />
      ) : me.data ? (
        <BalanceDetails me={me.data} showBreakdown={showBreakdown} />
      ) : null}
    </section>
  );
}

function BalanceDetails({ me, showBreakdown }: { me: WireMe; showBreakdown: boolean }) {
  const { locale, timeZone } = useTally();
  const { balance, subscription } = me;
  const available = integer(balance.availableMicros);
  const held = integer(balance.heldMicros);
  const debt = integer(balance.debtMicros);
  const byKind = new Map<WireBucket['kind'], bigint>();
  for (const bucket of balance.buckets) {
    byKind.set(bucket.kind, (byKind.get(bucket.kind) ?? 0n) + integer(bucket.remainingMicros));
  }
  const status = subscription ? STATUS_LABELS[subscription.status] : undefined;
  return (
    <>
      <p className="tally-credit-balance__plan">
        <span>{me.tier.name} plan</span>
        {status ? (
          <span className="tally-badge" data-tone={subscription?.status === 'past_due' ? 'negative' : undefined}>
            {status}
          </span>
        ) : null}
      </p>
      {me.unlimited ? (
        <>
          <p className="tally-credit-balance__amount">Unlimited</p>
          <p className="tally-muted">Every call is recorded; none is limited by credits.</p>
        </>
      ) : (
        <>
          <p className="tally-credit-balance__amount">
            <CreditAmount micros={available} locale={locale} />
          </p>
          <p className="tally-muted">{available > 0n ? 'available to spend' : 'No credits to spend right now.'}</p>
        </>
      )}
      {subscription?.status === 'past_due' ? (
        <p className="tally-note" data-tone="negative">
          The payment{subscription.pastDueSince ? ` due ${formatDate(subscription.pastDueSince, locale, timeZone)}` : ''} failed. Update
          your payment method to keep your plan.
        </p>
      ) : null}
      {showBreakdown && (byKind.size > 0 || held > 0n || debt > 0n) ? (
        <dl className="tally-totals">
          {[...byKind].map(([kind, micros]) => (
            <div className="tally-totals__row" key={kind}>
              <dt>
                {BUCKET_LABELS[kind]}
                {kind === 'allowance' && balance.allowance?.expiresAt ? (
                  <span className="tally-muted"> · until {formatDate(balance.allowance.expiresAt, locale, timeZone)}</span>
                ) : null}
              </dt>
              <dd>
                <CreditAmount micros={micros} locale={locale} />
              </dd>
            </div>
          ))}
          {held > 0n ? (
            <div className="tally-totals__row">
              <dt>Held for calls in progress</dt>
              <dd>
                <CreditAmount micros={-held} locale={locale} />
              </dd>
            </div>
          ) : null}
          {debt > 0n ? (
            <div className="tally-totals__row">
              <dt>Owed</dt>
              <dd>
                <CreditAmount micros={-debt} locale={locale} />
              </dd>
            </div>
          ) : null}
        </dl>
      ) : null}
      {me.providerBalances.length > 0 ? (
        <ul className="tally-credit-balance__providers" aria-label="Your provider keys">
          {me.providerBalances.map((p) => (
            <li key={`${p.provider}:${p.source}`} data-tone={p.low ? 'warning' : undefined}>
              {p.source === 'byok' ? 'Your' : 'Provisioned'} {providerName(p.provider)} key:{' '}
              {p.remainingNanoUsd === null ? 'no limit' : `${formatNanoUsdText(p.remainingNanoUsd, locale)} left`}
              {p.low ? ' (low)' : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
