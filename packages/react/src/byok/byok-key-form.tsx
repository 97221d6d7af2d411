import { type FormEvent, useId, useState } from 'react';
import { formatDate } from '../format/dates.js';
import { providerName } from '../format/providers.js';
import { cx } from '../primitive/class-names.js';
import { useTally } from '../provider/provider.js';
import { describeError } from '../status/messages.js';
import { ErrorState, LoadingState } from '../status/status-views.js';
import { useByokKeys, useRemoveByokKey, useSetByokKey } from './hooks.js';

export interface ByokProviderOption {
  id: string;
  name: string;
}

export interface ByokKeyFormProps {
  /** The providers a customer may bring a key for. Default OpenRouter. */
  providers?: ByokProviderOption[];
  /** The heading. Default "Your own API keys". */
  title?: string;
  className?: string;
}

const DEFAULT_PROVIDERS: ByokProviderOption[] = [{ id: 'openrouter', name: 'OpenRouter' }];

/**
 * The customer's own provider keys: which are stored (last 4 characters only), a form to add or
 * replace one (the key is sent once and never shown again), and a remove button per key.
 */
export function ByokKeyForm({ providers = DEFAULT_PROVIDERS, title = 'Your own API keys', className }: ByokKeyFormProps) {
  const { locale, timeZone } = useTally();
  const keys = useByokKeys();
  const setKey = useSetByokKey();
  const removeKey = useRemoveByokKey();
  const [provider, setProvider] = useState(providers[0]?.id ?? '');
  const [apiKey, setApiKey] = useState('');
  const [removed, setRemoved] = useState<string | null>(null);
  const ids = { heading: useId(), provider: useId(), key: useId(), hint: useId() };
  const nameOf = (id: string) => providers.find((p) => p.id === id)?.name ?? providerName(id);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = apiKey.trim();
    if (!value || setKey.status === 'pending') return;
    setRemoved(null);
    removeKey.reset();
    try {
      await setKey.mutate(provider, value);
      setApiKey('');
    } catch {
      // Shown from setKey.error.
    }
  };

  const remove = async (id: string) => {
    setKey.reset();
    try {
      await removeKey.mutate(id);
      setRemoved(id);
    } catch {
      // Shown from removeKey.error.
    }
  };

  const message =
    setKey.status === 'success' && setKey.data
      ? {
          tone: 'positive',
          text: `Saved. Calls to ${nameOf(setKey.data.provider)} now use your key ending in ${setKey.data.last4 || '(hidden)'}.`,
        }
      : setKey.status === 'error'
        ? { tone: 'negative', text: describeError(setKey.error) }
        : removeKey.status === 'error'
          ? { tone: 'negative', text: describeError(removeKey.error) }
          : removed
            ? { tone: 'positive', text: `Removed your ${nameOf(removed)} key. Calls use your credits again.` }
            : null;

  return (
    <section className={cx('tally-card tally-byok', className)} aria-labelledby={ids.heading} aria-busy={keys.fetching || undefined}>
      <h2 id={ids.heading} className="tally-card__title">
        {title}
      </h2>
      <p className="tally-muted">Calls made with your own key are paid by your provider account and cost no credits.</p>
      {keys.status === 'loading' ? (
        <LoadingState label="Loading your keys…" lines={1} />
      ) : keys.status === 'error' && !keys.data ? (
        <ErrorState error={keys.error} title="Your keys could not be loaded." onRetry={keys.refetch} />
      ) : keys.data && keys.data.length > 0 ? (
        <ul className="tally-byok__keys" aria-label="Stored keys">
          {keys.data.map((key) => (
            <li key={key.provider} className="tally-byok__key">
              <span>
                <strong>{nameOf(key.provider)}</strong> <span className="tally-muted">key ending in {key.last4 || '(hidden)'}</span>
                <span className="tally-muted"> · updated {formatDate(key.updatedAt, locale, timeZone)}</span>
              </span>
              <button
                type="button"
                className="tally-button"
                data-variant="secondary"
                aria-label={`Remove ${nameOf(key.provider)} key`}
                aria-disabled={removeKey.status === 'pending' || undefined}
                onClick={() => void remove(key.provider)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="tally-muted">No keys stored. Calls use your credits.</p>
      )}
      <form className="tally-form" onSubmit={submit}>
        {providers.length > 1 ? (
          <div className="tally-field">
            <label className="tally-field__label" htmlFor={ids.provider}>
              Provider
            </label>
            <select id={ids.provider} className="tally-input" value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
              {providers.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="tally-field">
          <label className="tally-field__label" htmlFor={ids.key}>
            {nameOf(provider)} API key
          </label>
          <input
            id={ids.key}
            className="tally-input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={apiKey}
            onChange={(e) => {
              setApiKey(e.currentTarget.value);
              if (setKey.status === 'error') setKey.reset();
            }}
            aria-invalid={setKey.status === 'error' || undefined}
            aria-describedby={ids.hint}
          />
          <span id={ids.hint} className="tally-muted">
            Stored encrypted. Only its last 4 characters are shown afterwards.
          </span>
        </div>
        <p role="status" className="tally-form__message">
          {message ? <span data-tone={message.tone}>{message.text}</span> : null}
        </p>
        <button type="submit" className="tally-button" aria-disabled={!apiKey.trim() || setKey.status === 'pending' || undefined}>
          {setKey.status === 'pending' ? 'Saving…' : 'Save key'}
        </button>
      </form>
    </section>
  );
}
