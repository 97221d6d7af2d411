import { useMe } from '../account/hooks.js';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { formatCreditsNumber, formatCreditsText, integer } from '../format/amounts.js';
import { formatDate } from '../format/dates.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { ErrorState, LoadingState } from '../status/status-views.js';
import { Indicator, Label, Root, Track, usageMeterState } from './usage-meter-parts.js';

export interface UsageMeterProps {
  /** The heading. Default "Credits this period". */
  title?: string;
  className?: string;
}

/**
 * How much of the period's credit allowance is used, with what is left and when it resets. Shows
 * the unlimited, no-allowance, low, exhausted and past-due cases, and loading and error states.
 */
function UsageMeterWidget({ title = 'Credits this period', className }: UsageMeterProps) {
  const { locale, timeZone } = useTally();
  const me = useMe();
  const busy = me.fetching || undefined;
  const cardClass = cx('tally-card tally-usage-meter', className);
  const heading = <h2 className="tally-card__title">{title}</h2>;

  if (me.status === 'loading' || (me.status === 'error' && !me.data)) {
    return (
      <div className={cardClass} aria-busy={busy}>
        {heading}
        {me.status === 'loading' ? (
          <LoadingState label="Loading your credits…" lines={1} />
        ) : (
          <ErrorState error={me.error} title="Your credits could not be loaded." onRetry={me.refetch} />
        )}
      </div>
    );
  }

  const data = me.data;
  if (!data) return null;
  const pastDue = data.subscription?.status === 'past_due';
  const allowance = data.balance.allowance;
  const pastDueNote = pastDue ? (
    <p className="tally-note" data-tone="negative">
      Your last payment failed. Update your payment method to keep your allowance.
    </p>
  ) : null;

  if (data.unlimited) {
    return (
      <Root used={0n} limit={null} className={cardClass} aria-busy={busy}>
        <Label asChild>{heading}</Label>
        <p className="tally-usage-meter__value">Unlimited</p>
        <p className="tally-muted">Your {data.tier.name} plan has no credit limit. Every call is still recorded.</p>
        {pastDueNote}
      </Root>
    );
  }

  if (!allowance) {
    return (
      <div className={cardClass} aria-busy={busy} data-state="none">
        {heading}
        <p className="tally-muted">Your {data.tier.name} plan has no allowance this period.</p>
        <p>
          Available: <CreditAmount micros={integer(data.balance.availableMicros)} locale={locale} />
        </p>
        {pastDueNote}
      </div>
    );
  }

  const granted = integer(allowance.grantedMicros);
  const remaining = integer(allowance.remainingMicros);
  const used = granted - remaining;
  const grantedText = formatCreditsText(granted, locale);
  const state = usageMeterState(used, granted);
  const resets = allowance.expiresAt ? formatDate(allowance.expiresAt, locale, timeZone) : null;
  return (
    <Root
      used={used}
      limit={granted}
      valueText={`${formatCreditsNumber(used, locale)} of ${grantedText} used`}
      className={cardClass}
      aria-busy={busy}
    >
      <div className="tally-usage-meter__header">
        <Label asChild>{heading}</Label>
        <p className="tally-usage-meter__value">
          {formatCreditsNumber(used, locale)} <span className="tally-muted">of {grantedText}</span>
        </p>
      </div>
      <Track className="tally-usage-meter__track">
        <Indicator className="tally-usage-meter__indicator" />
      </Track>
      <p className="tally-usage-meter__detail">
        {formatCreditsText(remaining > 0n ? remaining : 0n, locale)} left{resets ? ` · resets ${resets}` : ''}
      </p>
      {state === 'exhausted' ? (
        <p className="tally-note" data-tone="negative">
          You have used this period's allowance. Calls now draw on purchased credits.
        </p>
      ) : state === 'low' ? (
        <p className="tally-note" data-tone="warning">
          Less than 10% of this period's allowance is left.
        </p>
      ) : null}
      {pastDueNote}
    </Root>
  );
}

/**
 * The drop-in usage meter, with its unstyled parts attached: `UsageMeter.Root`, `.Label`, `.Track`
 * and `.Indicator` build your own.
 */
export const UsageMeter = /* @__PURE__ */ Object.assign(UsageMeterWidget, { Root, Label, Track, Indicator });
