import { type ReactNode, useRef, useState } from 'react';
import { formatBps, formatCreditsText, integer } from '../format/amounts.js';
import { MoneyAmount } from '../money-amount/money-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireTier } from '../provider/wire.js';
import { EmptyState, ErrorState, LoadingState } from '../status/status-views.js';
import { useTiers } from './hooks.js';
import { TierUpgradeModal } from './tier-upgrade-modal.js';

export interface PricingTableProps {
  /** The heading. Default "Plans". */
  title?: string;
  /**
   * Called when a plan's button is pressed. Without it, the button opens a `TierUpgradeModal` with
   * that plan picked, so the price of the switch is shown before anything is charged.
   */
  onSelectTier?: (tier: WireTier) => void;
  className?: string;
}

/** The catalog's plans side by side (stacked on narrow screens), the current one marked. */
export function PricingTable({ title = 'Plans', onSelectTier, className }: PricingTableProps) {
  const { locale } = useTally();
  const tiers = useTiers();
  const [picked, setPicked] = useState<string | null>(null);
  const returnFocus = useRef<HTMLButtonElement | null>(null);

  let body: ReactNode;
  if (tiers.status === 'loading') body = <LoadingState label="Loading plans…" lines={3} />;
  else if (tiers.status === 'error' && !tiers.data)
    body = <ErrorState error={tiers.error} title="The plans could not be loaded." onRetry={tiers.refetch} />;
  else if (!tiers.data || tiers.data.tiers.length === 0) body = <EmptyState>No plans are available yet.</EmptyState>;
  else {
    const current = tiers.data.current;
    body = (
      <ul className="tally-pricing-table__plans">
        {tiers.data.tiers.map((tier) => {
          const price = integer(tier.priceCents);
          const isCurrent = tier.id === current;
          return (
            <li key={tier.id} className="tally-plan" data-current={isCurrent ? '' : undefined}>
              <h3 className="tally-plan__name">
                {tier.name}
                {isCurrent ? <span className="tally-badge">Current plan</span> : null}
              </h3>
              <p className="tally-plan__price">
                {price === 0n ? 'Free' : <MoneyAmount amount={price} currency={tier.currency} locale={locale} />}
                {price === 0n ? null : <span className="tally-muted"> / {tier.interval}</span>}
              </p>
              <ul className="tally-plan__features">
                <li>
                  {tier.unlimited || tier.allowanceMicros === null
                    ? 'Unlimited credits'
                    : `${formatCreditsText(tier.allowanceMicros, locale)} every ${tier.interval}`}
                </li>
                <li>{tier.markupBps === 0 ? 'No markup on paid models' : `${formatBps(tier.markupBps, locale)} markup on paid models`}</li>
                {tier.trialDays > 0 ? <li>{tier.trialDays}-day free trial</li> : null}
              </ul>
              {isCurrent ? null : (
                <button
                  type="button"
                  className="tally-button"
                  onClick={(event) => {
                    if (onSelectTier) return onSelectTier(tier);
                    returnFocus.current = event.currentTarget;
                    setPicked(tier.id);
                  }}
                >
                  Switch to {tier.name}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <section className={cx('tally-card tally-pricing-table', className)} aria-label={title} aria-busy={tiers.fetching || undefined}>
      <h2 className="tally-card__title">{title}</h2>
      {body}
      {onSelectTier ? null : (
        <TierUpgradeModal
          trigger={null}
          open={picked !== null}
          onOpenChange={(open) => {
            if (!open) setPicked(null);
          }}
          tier={picked}
          onTierChange={setPicked}
          returnFocusRef={returnFocus}
        />
      )}
    </section>
  );
}
