import { PricingTable, TierUpgradeModal, useCancelSubscription, useMe, useResumeSubscription } from '@tally/react';
import { useId } from 'react';
import { ErrorNotice, formatDateTime, Loading, Page, tierName } from '../page.tsx';
import { CheckoutNotice } from './checkout-notice.tsx';

const STATUS: Record<string, string> = { trialing: 'Trial', active: 'Active', past_due: 'Payment past due', canceled: 'Canceled' };

/** The current subscription, with cancel or resume: what the plan cards below start from. */
function SubscriptionCard() {
  const me = useMe();
  const cancel = useCancelSubscription();
  const resume = useResumeSubscription();
  const titleId = useId();
  const subscription = me.data?.subscription ?? null;
  const scheduled = subscription?.scheduledChange ?? null;
  const failure = cancel.error ?? resume.error;

  return (
    <section className="tally-card" aria-labelledby={titleId} aria-busy={me.fetching || undefined}>
      <h2 id={titleId} className="tally-card__title">
        Your subscription
      </h2>
      {me.status === 'loading' ? (
        <Loading label="Loading your subscription…" />
      ) : me.status === 'error' && !me.data ? (
        <ErrorNotice error={me.error} title="Your subscription could not be loaded." onRetry={me.refetch} />
      ) : me.data ? (
        <>
          <dl className="tally-totals">
            <div className="tally-totals__row">
              <dt>Plan</dt>
              <dd>{me.data.tier.name}</dd>
            </div>
            {subscription ? (
              <>
                <div className="tally-totals__row">
                  <dt>Status</dt>
                  <dd>{STATUS[subscription.status] ?? subscription.status}</dd>
                </div>
                <div className="tally-totals__row">
                  <dt>Current period ends</dt>
                  <dd>{formatDateTime(subscription.currentPeriodEnd)}</dd>
                </div>
                {scheduled ? (
                  <div className="tally-totals__row">
                    <dt>Scheduled</dt>
                    <dd>
                      {scheduled.tier ? `Moves to ${tierName(scheduled.tier)}` : 'Ends'} on {formatDateTime(scheduled.at)}
                    </dd>
                  </div>
                ) : null}
              </>
            ) : (
              <div className="tally-totals__row">
                <dt>Status</dt>
                <dd>No subscription</dd>
              </div>
            )}
          </dl>
          <div className="dash-actions">
            <TierUpgradeModal />
            {subscription && subscription.status !== 'canceled' ? (
              scheduled && scheduled.tier === null ? (
                <button
                  type="button"
                  className="tally-button"
                  data-variant="secondary"
                  aria-disabled={resume.status === 'pending' || undefined}
                  onClick={() => {
                    if (resume.status !== 'pending') resume.mutate().catch(() => {});
                  }}
                >
                  {resume.status === 'pending' ? 'Resuming…' : 'Keep my subscription'}
                </button>
              ) : (
                <button
                  type="button"
                  className="tally-button"
                  data-variant="secondary"
                  aria-disabled={cancel.status === 'pending' || undefined}
                  onClick={() => {
                    if (cancel.status !== 'pending') cancel.mutate().catch(() => {});
                  }}
                >
                  {cancel.status === 'pending' ? 'Canceling…' : 'Cancel at period end'}
                </button>
              )
            ) : null}
          </div>
          {failure ? <ErrorNotice error={failure} title="The subscription could not be changed." /> : null}
        </>
      ) : null}
    </section>
  );
}

/**
 * Plans: the pricing table and the upgrade dialog, which shows the API's proration preview before
 * anything is charged. An upgrade that needs payment goes to the checkout page (the sandbox's, in
 * the demo), which comes back to the account page.
 */
export function PlanPage() {
  return (
    <Page title="Plan" intro="Upgrades start now and are prorated; downgrades take effect at the end of the period.">
      <CheckoutNotice />
      <SubscriptionCard />
      <PricingTable title="Available plans" />
    </Page>
  );
}
