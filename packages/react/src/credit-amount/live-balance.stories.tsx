import type { Meta, StoryObj } from '@storybook/react-vite';
import { TallyError } from '@tally/core';
import { useEffect, useState } from 'react';
import { type StoryScenario, storyClient, tallyScenario } from '../../../../.storybook/tally-backend.js';
import { CreditAmount } from './credit-amount.js';

type Me = Awaited<ReturnType<ReturnType<typeof storyClient>['me']>>;

type State = { status: 'loading' } | { status: 'success'; me: Me } | { status: 'error'; code: string };

const STATUS_TEXT = { trialing: 'trial', active: 'active', past_due: 'past due', canceled: 'canceled' } as const;

/**
 * `GET /v1/me` through the typed client, answered by the real HTTP handler over the scenario's seeded
 * memory store (msw in the browser), with the amounts shown by `CreditAmount`. It proves the story
 * pipeline end to end; the drop-in widgets get their data the same way through `TallyProvider`.
 */
function LiveBalance({ scenario }: { scenario: StoryScenario }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    setState({ status: 'loading' });
    storyClient(scenario)
      .me()
      .then(
        (me) => current && setState({ status: 'success', me }),
        (error: unknown) => current && setState({ status: 'error', code: TallyError.is(error) ? error.code : 'NETWORK' }),
      );
    return () => {
      current = false;
    };
  }, [scenario]);

  const box = { fontFamily: 'var(--tally-font)', color: 'var(--tally-color-fg)', maxWidth: '28rem' } as const;
  if (state.status === 'loading') {
    return (
      <section aria-label="Credit balance" aria-busy="true" style={box}>
        <p>Loading the balance…</p>
      </section>
    );
  }
  if (state.status === 'error') {
    return (
      <section aria-label="Credit balance" style={box}>
        <p role="alert">The balance could not be loaded (error {state.code}).</p>
      </section>
    );
  }
  const { me } = state;
  const { balance } = me;
  const row = { display: 'flex', justifyContent: 'space-between', gap: '0 1rem', flexWrap: 'wrap', margin: '0.25rem 0' } as const;
  return (
    <section aria-label="Credit balance" style={box}>
      <dl style={{ margin: 0 }}>
        <div style={row}>
          <dt>Plan</dt>
          <dd style={{ margin: 0 }}>
            {me.tier.name} ({me.subscription ? STATUS_TEXT[me.subscription.status] : 'no subscription'})
          </dd>
        </div>
        <div style={row}>
          <dt>Available</dt>
          <dd style={{ margin: 0 }}>{balance.unlimited ? 'Unlimited' : <CreditAmount micros={BigInt(balance.availableMicros)} />}</dd>
        </div>
        {balance.allowance ? (
          <div style={row}>
            <dt>Allowance left this period</dt>
            <dd style={{ margin: 0 }}>
              <CreditAmount micros={BigInt(balance.allowance.remainingMicros)} unit={null} /> of{' '}
              <CreditAmount micros={BigInt(balance.allowance.grantedMicros)} />
            </dd>
          </div>
        ) : null}
        {BigInt(balance.debtMicros) > 0n ? (
          <div style={row}>
            <dt>Debt</dt>
            <dd style={{ margin: 0 }}>
              <CreditAmount micros={BigInt(balance.debtMicros)} />
            </dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

const meta = {
  title: 'CreditAmount/Live balance',
  component: LiveBalance,
  tags: ['autodocs'],
  parameters: {
    docs: {
      description: {
        component:
          'A balance read from the API the way an app reads it. In Storybook the API is the real `createTallyHandler` over a seeded ' +
          'memory store, served by msw (see `.storybook/tally-backend.ts`):\n\n' +
          '```tsx\n' +
          "const client = createTallyClient({ baseUrl: 'https://app.example.com/api' });\n" +
          'const { balance } = await client.me();\n' +
          '<CreditAmount micros={BigInt(balance.availableMicros)} />\n' +
          '```',
      },
    },
  },
} satisfies Meta<typeof LiveBalance>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Builds a story for one scenario: its msw handlers, and the client pointed at it. */
function scenarioStory(scenario: StoryScenario, story: Partial<Story> = {}): Story {
  return { args: { scenario }, parameters: { msw: { handlers: tallyScenario(scenario) } }, ...story };
}

export const Healthy = scenarioStory('healthy');
export const LowBalance = scenarioStory('low-balance');
/** The renewal was declined: last period's allowance has expired and no new one was granted. */
export const PastDue = scenarioStory('past-due');
export const Unlimited = scenarioStory('unlimited');
export const NewCustomer = scenarioStory('new-customer');
export const EmptyHistory = scenarioStory('empty-history');
/** The handler answers 500 problem+json; the client retries, then throws a TallyError with code INTERNAL. */
export const ServerError = scenarioStory('server-error');
/** Responses never arrive: the loading state stays. */
export const Loading = scenarioStory('slow', { tags: ['loading'] });
