import { TallyError } from '@tally/core';
import { CreditAmount, CreditBalance, UsageMeter } from '@tally/react';
import { type FormEvent, useId, useState } from 'react';
import { useDashboard } from '../context.tsx';
import { type PlaygroundResult, POWER_LEVELS, type PowerLevel } from '../demo-api.ts';
import { ErrorNotice, Page } from '../page.tsx';
import { useLedgerRefresh } from './live-refresh.tsx';

const MAX_PROMPT = 4000;

interface Call extends PlaygroundResult {
  id: number;
  prompt: string;
  powerLevel: PowerLevel;
}

/** Exact credits from a micros string; a malformed one shows as it came rather than as a wrong number. */
function Credits({ micros, digits = 6 }: { micros: string; digits?: number }) {
  return /^-?\d+$/.test(micros) ? (
    <CreditAmount micros={BigInt(micros)} maxFractionDigits={digits} minFractionDigits={0} />
  ) : (
    <span>{micros}</span>
  );
}

/** A token count as sent (a number or an integer string), grouped for reading. */
function tokens(count: number | string): string {
  const text = String(count);
  return /^\d+$/.test(text) ? BigInt(text).toLocaleString('en-US') : text;
}

/**
 * Metered LLM calls: a prompt and a power level go to `POST /demo/playground`, which calls the model
 * through Tally's middleware and charges the tokens at the plan's markup. The meter beside the form
 * moves as soon as the ledger has the entry.
 */

const EMPTY_PROMPT = new TallyError('VALIDATION', 'Write a prompt first.');
export function PlaygroundPage() {
  const { demo } = useDashboard();
  const refresh = useLedgerRefresh();
  const [prompt, setPrompt] = useState('');
  const [powerLevel, setPowerLevel] = useState<PowerLevel>('balanced');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [calls, setCalls] = useState<Call[]>([]);
  const promptId = useId();
  const levelId = useId();
  const levelHint = useId();
  const resultId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    const text = prompt.trim();
    if (!text) {
      setError(EMPTY_PROMPT);
      return;
    }
    setPending(true);
    setError(null);
    try {
      const result = await demo.playground({ prompt: text, powerLevel });
      setCalls((previous) => [{ ...result, id: (previous[0]?.id ?? 0) + 1, prompt: text, powerLevel }, ...previous].slice(0, 5));
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
      // Charged or not, the balance may have moved (a failed call can still have held credits).
      refresh();
    }
  };

  const last = calls[0];
  const level = POWER_LEVELS.find((candidate) => candidate.id === powerLevel);

  return (
    <Page
      title="Playground"
      intro="Send a prompt to a model. Each call is metered: its tokens are priced for your plan and charged to your credits."
    >
      <div className="dash-grid dash-grid--wide-first">
        <div className="dash-stack">
          <section className="tally-card" aria-labelledby={`${promptId}-title`}>
            <h2 id={`${promptId}-title`} className="tally-card__title">
              New call
            </h2>
            <form className="tally-form" onSubmit={submit} aria-describedby={error ? `${promptId}-error` : undefined}>
              <div className="tally-field">
                <label className="tally-field__label" htmlFor={promptId}>
                  Prompt
                </label>
                <textarea
                  id={promptId}
                  className="tally-input dash-textarea"
                  rows={4}
                  maxLength={MAX_PROMPT}
                  value={prompt}
                  onChange={(event) => setPrompt(event.target.value)}
                  placeholder="Explain credits and power levels in two sentences."
                />
              </div>
              <div className="tally-field">
                <label className="tally-field__label" htmlFor={levelId}>
                  Power level
                </label>
                <select
                  id={levelId}
                  className="tally-input dash-select"
                  value={powerLevel}
                  aria-describedby={levelHint}
                  onChange={(event) => setPowerLevel(event.target.value as PowerLevel)}
                >
                  {POWER_LEVELS.map((option) => (
                    <option key={option.id} value={option.id}>
                      {option.label}
                    </option>
                  ))}
                </select>
                <p id={levelHint} className="tally-muted dash-hint">
                  {level ? `${level.label}: ${level.description}.` : ''}
                </p>
              </div>
              <div className="dash-row">
                <button type="submit" className="tally-button" aria-disabled={pending || undefined} aria-busy={pending || undefined}>
                  {pending ? 'Calling the model…' : 'Send prompt'}
                </button>
              </div>
            </form>
            <div id={`${promptId}-error`}>
              {error ? (
                // A prompt refused before any call was made is not a failed call.
                <ErrorNotice error={error} {...(error === EMPTY_PROMPT ? {} : { title: 'The call failed.' })} />
              ) : null}
            </div>
          </section>
          <section className="tally-card dash-result" aria-labelledby={resultId}>
            <h2 id={resultId} className="tally-card__title">
              Last call
            </h2>
            <div role="status" className="dash-result__status">
              {last ? (
                <p>
                  Charged <Credits micros={last.chargedMicros} /> for {tokens(last.inputTokens)} input and {tokens(last.outputTokens)}{' '}
                  output tokens on <code>{last.model}</code>. Balance now <Credits micros={last.balanceMicros} />.
                </p>
              ) : (
                <p className="tally-muted">{pending ? 'Waiting for the model…' : 'No calls yet. Send a prompt to see what it costs.'}</p>
              )}
            </div>
            {last ? <blockquote className="dash-reply">{last.text}</blockquote> : null}
          </section>
        </div>
        <div className="dash-stack">
          <UsageMeter />
          <CreditBalance title="Credits" showBreakdown={false} />
        </div>
      </div>

      {calls.length > 1 ? (
        <section className="dash-section" aria-labelledby={`${resultId}-history`}>
          <h2 id={`${resultId}-history`} className="dash-section-title">
            Earlier calls
          </h2>
          <table className="dash-table">
            <caption className="dash-visually-hidden">Your earlier calls on this page</caption>
            <thead>
              <tr>
                <th scope="col">Prompt</th>
                <th scope="col">Power level</th>
                <th scope="col">Model</th>
                <th scope="col" data-align="end">
                  Charged
                </th>
              </tr>
            </thead>
            <tbody>
              {calls.slice(1).map((call) => (
                <tr key={call.id}>
                  <td data-label="Prompt">{call.prompt.length > 80 ? `${call.prompt.slice(0, 80)}…` : call.prompt}</td>
                  <td data-label="Power level">{POWER_LEVELS.find((option) => option.id === call.powerLevel)?.label}</td>
                  <td data-label="Model">
                    <code>{call.model}</code>
                  </td>
                  <td data-label="Charged" data-align="end">
                    <Credits micros={call.chargedMicros} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </Page>
  );
}
