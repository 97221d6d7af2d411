import * as Dialog from '@radix-ui/react-dialog';
import { formatDecimal, parseCredits, TallyError } from '@tally/core';
import { type FormEvent, type ReactElement, useId, useState } from 'react';
import { formatCents, formatCreditsText, integer } from '../format/amounts.js';
import { MoneyAmount } from '../money-amount/money-amount.js';
import { cx } from '../primitive/class-names.js';
import { useControllableState } from '../primitive/controllable-state.js';
import { useTally } from '../provider/provider.js';
import type { WireAutoRecharge, WireCreditPack } from '../provider/wire.js';
import { describeError } from '../status/messages.js';
import { EmptyState, ErrorState, LoadingState } from '../status/status-views.js';
import { useAutoRecharge, useBuyCreditPack, useCreditPacks, useSetAutoRecharge } from './hooks.js';

export interface BuyCreditsDialogProps {
  open?: boolean;
  defaultOpen?: boolean;
  onOpenChange?: (open: boolean) => void;
  /** The element that opens the dialog (`asChild`). Default: a "Buy credits" button; `null` for none. */
  trigger?: ReactElement | null;
  /** The dialog's title. Default "Buy credits". */
  title?: string;
  /** Show the auto-recharge settings below the packs. Default true. */
  showAutoRecharge?: boolean;
  className?: string;
}

/**
 * Credit packs to buy once (through checkout), and the auto-recharge settings: top up with a pack
 * when the balance falls below a threshold, at most N times a month.
 */
export function BuyCreditsDialog({
  open: openProp,
  defaultOpen = false,
  onOpenChange,
  trigger,
  title = 'Buy credits',
  showAutoRecharge = true,
  className,
}: BuyCreditsDialogProps) {
  const [open, setOpen] = useControllableState({ prop: openProp, defaultProp: defaultOpen, onChange: onOpenChange });
  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      {trigger === null ? null : (
        <Dialog.Trigger asChild>
          {trigger ?? (
            <button type="button" className="tally-button">
              Buy credits
            </button>
          )}
        </Dialog.Trigger>
      )}
      <Dialog.Portal>
        <Dialog.Overlay className="tally-dialog-overlay" />
        <Dialog.Content className={cx('tally-dialog tally-buy-credits', className)}>
          <Dialog.Title className="tally-dialog__title">{title}</Dialog.Title>
          <Dialog.Description className="tally-muted">
            Credits from a pack are added as soon as the payment goes through.
          </Dialog.Description>
          <PackPicker />
          {showAutoRecharge ? <AutoRechargeSection /> : null}
          <div className="tally-dialog__actions">
            <Dialog.Close className="tally-button" data-variant="secondary">
              Close
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function PackPicker() {
  const { locale, navigate } = useTally();
  const packs = useCreditPacks();
  const buy = useBuyCreditPack();
  const [picked, setPicked] = useState<string | null>(null);
  const name = useId();
  const list = packs.data ?? [];
  const pack = list.find((p) => p.id === picked) ?? list[0];

  if (packs.status === 'loading') return <LoadingState label="Loading credit packs…" lines={2} />;
  if (packs.status === 'error' && !packs.data)
    return <ErrorState error={packs.error} title="The credit packs could not be loaded." onRetry={packs.refetch} />;
  if (!pack) return <EmptyState>No credit packs are on sale right now.</EmptyState>;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (buy.status === 'pending') return;
    try {
      const { url } = await buy.mutate(pack.id);
      navigate(url);
    } catch {
      // Shown from buy.error.
    }
  };
  return (
    <form className="tally-buy-credits__packs" onSubmit={submit} aria-busy={packs.fetching || undefined}>
      <fieldset className="tally-choice-list">
        <legend className="tally-field__label">Credit packs</legend>
        {list.map((p) => (
          <label key={p.id} className="tally-choice tally-pack-option" data-state={p.id === pack.id ? 'checked' : 'unchecked'}>
            <input
              type="radio"
              className="tally-choice__input"
              name={name}
              value={p.id}
              checked={p.id === pack.id}
              onChange={() => {
                setPicked(p.id);
                buy.reset();
              }}
            />
            <span className="tally-choice__mark" aria-hidden="true" />
            <PackSummary pack={p} />
          </label>
        ))}
      </fieldset>
      <p role="status" className="tally-buy-credits__message">
        {buy.status === 'success' && buy.data ? (
          <>
            Opening checkout…{' '}
            <a className="tally-link" href={buy.data.url}>
              Continue to checkout
            </a>
          </>
        ) : buy.status === 'error' ? (
          <span data-tone="negative">{describeError(buy.error)}</span>
        ) : null}
      </p>
      <button type="submit" className="tally-button" aria-disabled={buy.status === 'pending' || undefined}>
        {buy.status === 'pending'
          ? 'Starting checkout…'
          : `Buy ${formatCreditsText(pack.creditsMicros, locale)} for ${formatCents(pack.priceCents, pack.currency, locale)}`}
      </button>
    </form>
  );
}

function PackSummary({ pack }: { pack: WireCreditPack }) {
  const { locale } = useTally();
  const credits = formatCreditsText(pack.creditsMicros, locale);
  return (
    <span className="tally-tier-option__body">
      <span className="tally-tier-option__name">{pack.name}</span>
      <span className="tally-tier-option__price">
        <MoneyAmount amount={integer(pack.priceCents)} currency={pack.currency} locale={locale} />
      </span>
      {/* Packs are often named by their credits: don't say it twice. */}
      {pack.name === credits ? null : <span className="tally-muted">{credits}</span>}
    </span>
  );
}

function AutoRechargeSection() {
  const settings = useAutoRecharge();
  const packs = useCreditPacks();
  // Here, not in the form: the form starts over when the saved settings change, the outcome stays.
  const save = useSetAutoRecharge();
  const headingId = useId();
  let body: ReactElement;
  if (settings.status === 'loading' || packs.status === 'loading')
    body = <LoadingState label="Loading auto-recharge settings…" lines={2} />;
  else if (!settings.data || !packs.data) {
    body = (
      <ErrorState
        error={settings.error ?? packs.error}
        title="The auto-recharge settings could not be loaded."
        onRetry={() => void Promise.all([settings.refetch(), packs.refetch()])}
      />
    );
  } else if (packs.data.length === 0) body = <EmptyState>Auto-recharge needs a credit pack to buy.</EmptyState>;
  // Keyed by the saved settings: the form starts over from them once they change.
  else body = <AutoRechargeForm key={JSON.stringify(settings.data)} saved={settings.data} packs={packs.data} save={save} />;
  return (
    <section className="tally-buy-credits__auto" aria-labelledby={headingId}>
      <h3 id={headingId} className="tally-section-title">
        Auto-recharge
      </h3>
      {body}
    </section>
  );
}

function AutoRechargeForm({
  saved,
  packs,
  save,
}: {
  saved: WireAutoRecharge;
  packs: WireCreditPack[];
  save: ReturnType<typeof useSetAutoRecharge>;
}) {
  const { locale } = useTally();
  const [enabled, setEnabled] = useState(saved.enabled);
  const [threshold, setThreshold] = useState(formatDecimal(integer(saved.thresholdMicros), 6));
  const [packId, setPackId] = useState(packs.some((p) => p.id === saved.packId) ? saved.packId : (packs[0]?.id ?? ''));
  const [maxPerMonth, setMaxPerMonth] = useState(String(saved.maxPerMonth));
  const [problem, setProblem] = useState<{ field: 'threshold' | 'max'; message: string } | null>(null);
  const ids = { enabled: useId(), threshold: useId(), pack: useId(), max: useId(), problem: useId() };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    let thresholdMicros: bigint;
    try {
      thresholdMicros = parseCredits(threshold.trim());
    } catch (error) {
      if (!TallyError.is(error)) throw error;
      return setProblem({ field: 'threshold', message: 'Enter an amount of credits, such as 5 or 2.5.' });
    }
    if (thresholdMicros < 0n || (enabled && thresholdMicros === 0n)) {
      return setProblem({ field: 'threshold', message: 'The threshold must be more than 0 credits.' });
    }
    if (!/^\d{1,3}$/.test(maxPerMonth.trim()) || Number(maxPerMonth) < 1) {
      return setProblem({ field: 'max', message: 'Enter how many top-ups a month are allowed, at least 1.' });
    }
    setProblem(null);
    try {
      await save.mutate({ enabled, thresholdMicros: thresholdMicros.toString(), packId, maxPerMonth: Number(maxPerMonth) });
    } catch {
      // Shown from save.error.
    }
  };

  const pack = packs.find((p) => p.id === packId);
  return (
    <form className="tally-form" onSubmit={submit} noValidate>
      <label className="tally-choice tally-checkbox" htmlFor={ids.enabled}>
        <input
          id={ids.enabled}
          type="checkbox"
          className="tally-choice__input"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        <span className="tally-choice__mark" data-shape="square" aria-hidden="true" />
        <span>Top up automatically when my balance runs low</span>
      </label>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={ids.threshold}>
          When the balance falls below (credits)
        </label>
        <input
          id={ids.threshold}
          className="tally-input"
          inputMode="decimal"
          autoComplete="off"
          value={threshold}
          onChange={(e) => setThreshold(e.currentTarget.value)}
          aria-invalid={problem?.field === 'threshold' || undefined}
          aria-describedby={problem?.field === 'threshold' ? ids.problem : undefined}
        />
      </div>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={ids.pack}>
          Buy this pack
        </label>
        <select id={ids.pack} className="tally-input" value={packId} onChange={(e) => setPackId(e.currentTarget.value)}>
          {packs.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}: {formatCreditsText(p.creditsMicros, locale)} for {formatCents(p.priceCents, p.currency, locale)}
            </option>
          ))}
        </select>
      </div>
      <div className="tally-field">
        <label className="tally-field__label" htmlFor={ids.max}>
          At most, times a month
        </label>
        <input
          id={ids.max}
          className="tally-input"
          inputMode="numeric"
          autoComplete="off"
          value={maxPerMonth}
          onChange={(e) => setMaxPerMonth(e.currentTarget.value)}
          aria-invalid={problem?.field === 'max' || undefined}
          aria-describedby={problem?.field === 'max' ? ids.problem : undefined}
        />
      </div>
      <p role="status" className="tally-form__message">
        {problem ? (
          <span id={ids.problem} data-tone="negative">
            {problem.message}
          </span>
        ) : save.status === 'success' ? (
          <span data-tone="positive">
            {enabled && pack
              ? `Saved. We will buy ${pack.name} when your balance falls below ${threshold.trim()} credits.`
              : 'Saved. Auto-recharge is off.'}
          </span>
        ) : save.status === 'error' ? (
          <span data-tone="negative">{describeError(save.error)}</span>
        ) : null}
      </p>
      <button type="submit" className="tally-button" data-variant="secondary" aria-disabled={save.status === 'pending' || undefined}>
        {save.status === 'pending' ? 'Saving…' : 'Save auto-recharge'}
      </button>
    </form>
  );
}
