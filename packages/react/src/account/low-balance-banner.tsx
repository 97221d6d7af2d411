import type { ReactNode } from 'react';
import { formatCreditsText, formatNanoUsdText, integer } from '../format/amounts.js';
import { providerName } from '../format/providers.js';
import { PaymentMethodButton } from '../payment-method/payment-method-button.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import type { WireMe } from '../provider/wire.js';
import { useMe } from './hooks.js';

export type LowBalanceReason = 'past_due' | 'exhausted' | 'low' | 'provider_low';

export interface LowBalanceBannerProps {
  /** Shown next to the low / exhausted message, e.g. a `<BuyCreditsDialog />` or a link to your pricing page. */
  action?: ReactNode;
  className?: string;
}

/**
 * The most pressing billing notice, or nothing: a failed payment (with a button to fix the card),
 * no credits left, less than 10 % of the allowance left, or a provider key running low. It stays
 * silent while loading and when the check fails — a banner should not shout about itself.
 */
export function LowBalanceBanner({ action, className }: LowBalanceBannerProps) {
  const { locale } = useTally();
  const me = useMe();
  const notice = me.data ? noticeFor(me.data, locale) : null;
  if (!notice) return null;
  return (
    <div className={cx('tally-banner', className)} role="status" data-reason={notice.reason} data-tone={notice.tone}>
      <p className="tally-banner__text">
        <strong>{notice.title}</strong> {notice.detail}
      </p>
      {notice.reason === 'past_due' ? (
        <PaymentMethodButton>Update payment method</PaymentMethodButton>
      ) : notice.reason === 'provider_low' ? null : (
        action
      )}
    </div>
  );
}

export interface LowBalanceNotice {
  reason: LowBalanceReason;
  tone: 'negative' | 'warning';
  title: string;
  detail: string;
}

/** Which notice applies, most pressing first. */
export function noticeFor(me: WireMe, locale = 'en-US'): LowBalanceNotice | null {
  if (me.subscription?.status === 'past_due') {
    return { reason: 'past_due', tone: 'negative', title: 'Your payment failed.', detail: 'Update your payment method to keep your plan.' };
  }
  if (!me.unlimited) {
    const available = integer(me.balance.availableMicros);
    const allowance = me.balance.allowance;
    if (available <= 0n) {
      return {
        reason: 'exhausted',
        tone: 'negative',
        title: 'You are out of credits.',
        detail: 'Calls that cost credits are refused until you add some.',
      };
    }
    if (allowance) {
      const granted = integer(allowance.grantedMicros);
      if (available * 10n < granted) {
        return {
          reason: 'low',
          tone: 'warning',
          title: 'Your credits are running low.',
          detail: `${formatCreditsText(available, locale)} left of this period's ${formatCreditsText(granted, locale)}.`,
        };
      }
    }
  }
  const provider = me.providerBalances.find((p) => p.low);
  if (provider) {
    return {
      reason: 'provider_low',
      tone: 'warning',
      title: `Your ${providerName(provider.provider)} key is running low.`,
      detail:
        provider.remainingNanoUsd === null
          ? 'Top it up with the provider.'
          : `${formatNanoUsdText(provider.remainingNanoUsd, locale)} left. Top it up with the provider.`,
    };
  }
  return null;
}
