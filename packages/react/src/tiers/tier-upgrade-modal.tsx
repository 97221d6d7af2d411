import { type ReactElement, type RefObject, useId } from 'react';
import { useMe } from '../account/hooks.js';
import { CreditAmount } from '../credit-amount/credit-amount.js';
import { formatCents, formatCreditsText, integer } from '../format/amounts.js';
import { formatDate } from '../format/dates.js';
import { MoneyAmount } from '../money-amount/money-amount.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireSubscription, WireTier, WireTierChangePreview, WireTierChangeResult } from '../provider/wire.js';
import { describeError } from '../status/messages.js';
import { ErrorState, LoadingState } from '../status/status-views.js';
import { useTiers } from './hooks.js';
import {
  Close,
  Confirm,
  Content,
  Description,
  Preview,
  Result,
  Root,
  TierList,
  TierOption,
  type TierUpgradeRootProps,
  Title,
  Trigger,
  useTierUpgrade,
} from './tier-upgrade-parts.js';

export interface TierUpgradeModalProps extends Omit<TierUpgradeRootProps, 'current' | 'children'> {
  /**
   * The element that opens the modal (wrapped with `asChild`, so it must accept a ref and props).
   * Default: a "Change plan" button. `null` renders none: open it with `open`.
   */
  trigger?: ReactElement | null;
  /** The dialog's title. Default "Change your plan". */
  title?: string;
  /** Where focus goes when the modal closes, when there is no trigger. */
  returnFocusRef?: RefObject<HTMLElement | null>;
  className?: string;
}

/**
 * Pick a tier, read exactly what changes now (proration lines, amount due, credits granted, when
 * it takes effect), confirm: an upgrade goes to checkout or is charged, a downgrade is scheduled
 * for the period end. Keyboard: arrow keys pick, Tab reaches Confirm, Escape closes and focus
 * returns to the trigger.
 */
export function TierUpgradeModal({ trigger, title = 'Change your plan', returnFocusRef, className, ...rootProps }: TierUpgradeModalProps) {
  const tiers = useTiers();
  return (
    <Root {...rootProps} current={tiers.data?.current ?? null}>
      {trigger === null ? null : (
        <Trigger asChild>
          {trigger ?? (
            <button type="button" className="tally-button">
              Change plan
            </button>
          )}
        </Trigger>
      )}
      <Content
        className={cx('tally-dialog tally-tier-upgrade', className)}
        overlayClassName="tally-dialog-overlay"
        onCloseAutoFocus={(event) => {
          const target = returnFocusRef?.current;
          if (target) {
            event.preventDefault();
            target.focus();
          }
        }}
      >
        <Title className="tally-dialog__title">{title}</Title>
        <ModalBody />
      </Content>
    </Root>
  );
}

function ModalBody() {
  const { locale, timeZone } = useTally();
  const tiers = useTiers();
  const me = useMe();
  const { result, previewState, preview, tier, change } = useTierUpgrade();
  const summaryId = useId();
  const tierList = tiers.data?.tiers ?? [];
  const nameOf = (id: string | null) => tierList.find((t) => t.id === id)?.name ?? id ?? '';
  const currentName = tiers.data ? nameOf(tiers.data.current) : null;

  return (
    <>
      <Description className="tally-muted">
        {currentName ? `You are on the ${currentName} plan. ` : ''}Upgrades start now; downgrades take effect at the end of the period.
      </Description>
      <SubscriptionNotes subscription={me.data?.subscription ?? null} nameOf={nameOf} />

      {result ? null : tiers.status === 'loading' ? (
        <LoadingState label="Loading plans…" lines={3} />
      ) : tiers.status === 'error' && !tiers.data ? (
        <ErrorState error={tiers.error} title="The plans could not be loaded." onRetry={tiers.refetch} />
      ) : (
        <>
          <TierList legend="Plans" className="tally-tier-list" legendClassName="tally-visually-hidden">
            {tierList.map((t) => (
              <TierOption key={t.id} value={t.id} className="tally-choice tally-tier-option" inputClassName="tally-choice__input">
                <span className="tally-choice__mark" aria-hidden="true" />
                <TierSummary tier={t} current={t.id === tiers.data?.current} />
              </TierOption>
            ))}
          </TierList>
          <Preview
            className="tally-tier-preview"
            fallback={(state, error, retry) =>
              state === 'idle' ? (
                <p className="tally-muted">Pick a plan to see what changes and what you pay now.</p>
              ) : state === 'loading' ? (
                <LoadingState label="Calculating the price…" lines={3} />
              ) : (
                <ErrorState error={error} title="The price could not be calculated." onRetry={retry} />
              )
            }
          >
            {(p) => <PreviewDetails preview={p} toName={nameOf(p.to)} />}
          </Preview>
        </>
      )}
      {/* Said once the numbers are in, so a screen reader hears the price without hunting for it. */}
      <p id={summaryId} className="tally-visually-hidden" aria-live="polite">
        {!result && previewState === 'ready' && preview.data
          ? previewSentence(preview.data, nameOf(preview.data.to), locale, timeZone)
          : ''}
      </p>

      <Result className="tally-tier-upgrade__result">
        {({ result: outcome, error }) =>
          outcome ? (
            <ResultMessage result={outcome} toName={nameOf(tier)} currency={tierList.find((t) => t.id === tier)?.currency ?? null} />
          ) : (
            <p className="tally-note" data-tone="negative">
              {describeError(error)}
            </p>
          )
        }
      </Result>

      <div className="tally-dialog__actions">
        <Close className="tally-button" data-variant="secondary">
          {result ? 'Done' : 'Cancel'}
        </Close>
        {result ? null : (
          <Confirm className="tally-button" aria-describedby={previewState === 'ready' ? summaryId : undefined}>
            {change.status === 'pending' ? 'Confirming…' : confirmLabel(previewState === 'ready' ? preview.data : undefined, locale)}
          </Confirm>
        )}
      </div>
    </>
  );
}

function TierSummary({ tier, current }: { tier: WireTier; current: boolean }) {
  const { locale } = useTally();
  const price = integer(tier.priceCents);
  return (
    <span className="tally-tier-option__body">
      <span className="tally-tier-option__name">
        {tier.name}
        {current ? <span className="tally-badge">Current plan</span> : null}
      </span>
      <span className="tally-tier-option__price">
        {price === 0n ? 'Free' : <MoneyAmount amount={price} currency={tier.currency} locale={locale} />}
        {price === 0n ? null : <span className="tally-muted"> / {tier.interval}</span>}
      </span>
      <span className="tally-tier-option__allowance tally-muted">
        {tier.unlimited || tier.allowanceMicros === null
          ? 'Unlimited credits'
          : `${formatCreditsText(tier.allowanceMicros, locale)} a ${tier.interval}`}
      </span>
    </span>
  );
}

function PreviewDetails({ preview, toName }: { preview: WireTierChangePreview; toName: string }) {
  const { locale, timeZone } = useTally();
  const due = integer(preview.amountDueCents);
  const kept = integer(preview.creditBalanceCents);
  const granted = integer(preview.creditsGrantedMicros);
  return (
    <>
      <p className="tally-tier-preview__summary">
        {preview.direction === 'upgrade'
          ? `Upgrade to ${toName}, starting now.`
          : `Downgrade to ${toName} on ${formatDate(preview.effectiveAt, locale, timeZone)}. Nothing is charged now.`}
      </p>
      {preview.lines.length > 0 ? (
        <ul className="tally-proration-lines" aria-label="Proration lines">
          {preview.lines.map((line) => (
            <li key={`${line.description}|${line.periodStart}`} className="tally-proration-line">
              <span className="tally-proration-line__description">{line.description}</span>
              <span className="tally-proration-line__period tally-muted">
                {formatDate(line.periodStart, locale, timeZone)} – {formatDate(line.periodEnd, locale, timeZone)}
              </span>
              <MoneyAmount
                className="tally-proration-line__amount"
                amount={integer(line.amountCents)}
                currency={preview.currency}
                locale={locale}
              />
            </li>
          ))}
        </ul>
      ) : null}
      <dl className="tally-totals">
        <div className="tally-totals__row" data-emphasis="">
          <dt>Due now</dt>
          <dd>
            <MoneyAmount amount={due} currency={preview.currency} locale={locale} />
          </dd>
        </div>
        {kept > 0n ? (
          <div className="tally-totals__row">
            <dt>Credit for later invoices</dt>
            <dd>
              <MoneyAmount amount={kept} currency={preview.currency} locale={locale} />
            </dd>
          </div>
        ) : null}
        <div className="tally-totals__row">
          <dt>Credits granted now</dt>
          <dd>
            <CreditAmount micros={granted} locale={locale} />
          </dd>
        </div>
        <div className="tally-totals__row">
          <dt>Takes effect</dt>
          <dd>{preview.timing === 'immediate' ? 'Now' : formatDate(preview.effectiveAt, locale, timeZone)}</dd>
        </div>
      </dl>
    </>
  );
}

function previewSentence(preview: WireTierChangePreview, toName: string, locale: string, timeZone: string | undefined): string {
  const due = formatCents(preview.amountDueCents, preview.currency, locale);
  if (preview.direction === 'downgrade')
    return `${toName}: changes on ${formatDate(preview.effectiveAt, locale, timeZone)}, ${due} due now.`;
  return `${toName}: ${due} due now, ${formatCreditsText(preview.creditsGrantedMicros, locale)} granted now.`;
}

function confirmLabel(preview: WireTierChangePreview | undefined, locale: string): string {
  if (!preview) return 'Confirm';
  if (preview.direction === 'downgrade') return 'Schedule downgrade';
  return integer(preview.amountDueCents) > 0n
    ? `Upgrade and pay ${formatCents(preview.amountDueCents, preview.currency, locale)}`
    : 'Upgrade now';
}

function SubscriptionNotes({ subscription, nameOf }: { subscription: WireSubscription | null; nameOf: (id: string | null) => string }) {
  const { locale, timeZone } = useTally();
  if (!subscription) return null;
  return (
    <>
      {subscription.status === 'past_due' ? (
        <p className="tally-note" data-tone="negative">
          Your last payment failed. Update your payment method before you upgrade.
        </p>
      ) : null}
      {subscription.scheduledChange ? (
        <p className="tally-note">
          {subscription.scheduledChange.tier
            ? `A change to ${nameOf(subscription.scheduledChange.tier)} is scheduled for ${formatDate(subscription.scheduledChange.at, locale, timeZone)}.`
            : `Your subscription ends on ${formatDate(subscription.scheduledChange.at, locale, timeZone)}.`}
        </p>
      ) : null}
    </>
  );
}

function ResultMessage({ result, toName, currency }: { result: WireTierChangeResult; toName: string; currency: string | null }) {
  const { locale, timeZone } = useTally();
  switch (result.status) {
    case 'started':
      return (
        <p className="tally-note" data-tone="positive">
          You are now on the {toName} plan.
        </p>
      );
    case 'scheduled':
      return (
        <p className="tally-note" data-tone="positive">
          Your plan changes to {toName} on {formatDate(result.effectiveAt, locale, timeZone)}.
        </p>
      );
    case 'checkout':
      return (
        <p className="tally-note">
          Finish the upgrade to {toName} at checkout.{' '}
          <a className="tally-link" href={result.url}>
            Open checkout
          </a>
        </p>
      );
    case 'payment_method_required':
      return (
        <p className="tally-note">
          Add a payment method to finish the upgrade.{' '}
          <a className="tally-link" href={result.url}>
            Add a payment method
          </a>
        </p>
      );
    case 'charged':
      return result.paid ? (
        <p className="tally-note" data-tone="positive">
          You are now on the {toName} plan.{currency ? ` ${formatCents(result.amountDueCents, currency, locale)} was charged.` : ''}
        </p>
      ) : (
        <p className="tally-note">
          The invoice for the upgrade is open; the plan changes once it is paid.{' '}
          {result.hostedInvoiceUrl ? (
            <a className="tally-link" href={result.hostedInvoiceUrl}>
              Pay the invoice
            </a>
          ) : null}
        </p>
      );
  }
}
