import { type FormEvent, useId, useState } from 'react';
import { cx } from '../primitive/class-names.js';
import type { WireNotificationCategory } from '../provider/wire.js';
import { describeError } from '../status/messages.js';
import { EmptyState, ErrorState, LoadingState } from '../status/status-views.js';
import { useNotificationPreferences, useSetNotificationPreferences } from './hooks.js';

export interface NotificationPreferencesProps {
  /** The heading. Default "Email notifications". */
  title?: string;
  /** Names and descriptions per category id, to override or translate the built-in ones. */
  labels?: Record<string, { label: string; description?: string }>;
  className?: string;
}

const LABELS: Record<string, { label: string; description?: string }> = {
  welcome: { label: 'Welcome', description: 'A note when your account is set up.' },
  low_balance: { label: 'Low balance', description: "When less than 10% of the period's credits is left." },
  monthly_reset: { label: 'Monthly reset', description: 'When a new period starts and your allowance is renewed.' },
  coupon_redeemed: { label: 'Coupon redeemed', description: 'When a coupon adds credits or a discount.' },
  tier_changed: { label: 'Plan changes', description: 'When your plan is upgraded or downgraded.' },
  payment_failed: { label: 'Payment failed', description: 'When a payment does not go through.' },
  provider_balance_low: { label: 'Provider key balance low', description: 'When your own provider key is running out.' },
};

/**
 * One checkbox per email category and a Save button. Required categories (e.g. payment failed)
 * are shown checked and disabled, with the reason they can't be turned off.
 */
export function NotificationPreferences({ title = 'Email notifications', labels, className }: NotificationPreferencesProps) {
  const prefs = useNotificationPreferences();
  // Here, not in the form: the form starts over from the saved values after a save, the outcome stays.
  const save = useSetNotificationPreferences();
  const headingId = useId();
  return (
    <section
      className={cx('tally-card tally-notifications', className)}
      aria-labelledby={headingId}
      aria-busy={prefs.fetching || undefined}
    >
      <h2 id={headingId} className="tally-card__title">
        {title}
      </h2>
      {prefs.status === 'loading' ? (
        <LoadingState label="Loading your notification settings…" lines={3} />
      ) : prefs.status === 'error' && !prefs.data ? (
        <ErrorState error={prefs.error} title="Your notification settings could not be loaded." onRetry={prefs.refetch} />
      ) : !prefs.data || prefs.data.categories.length === 0 ? (
        <EmptyState>There are no notification settings for your account.</EmptyState>
      ) : (
        // Keyed by the saved values: after a save (or a change elsewhere) the form starts from them.
        <PreferencesForm
          key={JSON.stringify(prefs.data.categories)}
          categories={prefs.data.categories}
          labels={{ ...LABELS, ...labels }}
          legend={title}
          save={save}
        />
      )}
    </section>
  );
}

function PreferencesForm({
  categories,
  labels,
  legend,
  save,
}: {
  categories: WireNotificationCategory[];
  labels: Record<string, { label: string; description?: string }>;
  legend: string;
  save: ReturnType<typeof useSetNotificationPreferences>;
}) {
  const [values, setValues] = useState(() => Object.fromEntries(categories.map((c) => [c.id, c.enabled])));
  const baseId = useId();
  const changed = categories.filter((c) => !c.required && values[c.id] !== c.enabled);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (changed.length === 0 || save.status === 'pending') return;
    try {
      await save.mutate({ categories: changed.map((c) => ({ id: c.id, enabled: values[c.id] === true })) });
    } catch {
      // Shown from save.error.
    }
  };

  return (
    <form className="tally-form" onSubmit={submit}>
      <fieldset className="tally-choice-list">
        <legend className="tally-visually-hidden">{legend}</legend>
        {categories.map((category) => {
          const text = labels[category.id] ?? { label: humanize(category.id) };
          const inputId = `${baseId}-${category.id}`;
          const nameId = `${inputId}-name`;
          const descriptionId = `${inputId}-description`;
          const description = category.required ? (category.reason ?? 'Required for your account.') : text.description;
          return (
            <label
              key={category.id}
              className="tally-choice tally-checkbox"
              htmlFor={inputId}
              data-disabled={category.required ? '' : undefined}
            >
              <input
                id={inputId}
                type="checkbox"
                className="tally-choice__input"
                checked={category.required ? true : values[category.id] === true}
                disabled={category.required}
                // Named by the title alone; the description is read as a description.
                aria-labelledby={nameId}
                aria-describedby={description ? descriptionId : undefined}
                onChange={(event) => {
                  const enabled = event.currentTarget.checked;
                  setValues((current) => ({ ...current, [category.id]: enabled }));
                  save.reset();
                }}
              />
              <span className="tally-choice__mark" data-shape="square" aria-hidden="true" />
              <span className="tally-choice__text">
                <span id={nameId}>{text.label}</span>
                {description ? (
                  <span id={descriptionId} className="tally-muted">
                    {description}
                  </span>
                ) : null}
              </span>
            </label>
          );
        })}
      </fieldset>
      <p role="status" className="tally-form__message">
        {save.status === 'success' ? (
          <span data-tone="positive">Saved.</span>
        ) : save.status === 'error' ? (
          <span data-tone="negative">{describeError(save.error)}</span>
        ) : null}
      </p>
      <button type="submit" className="tally-button" aria-disabled={changed.length === 0 || save.status === 'pending' || undefined}>
        {save.status === 'pending' ? 'Saving…' : 'Save preferences'}
      </button>
    </form>
  );
}

function humanize(id: string): string {
  const words = id.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
