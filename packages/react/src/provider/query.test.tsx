// @vitest-environment happy-dom
import { createTallyCache } from '@tally/core/client';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { useBalance, useMe } from '../account/hooks.js';
import { useRedeemCoupon } from '../coupons/hooks.js';
import { createFakeClient } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { useTierChangePreview } from '../tiers/hooks.js';
import { useTransactions } from '../transactions/hooks.js';
import { TallyProvider } from './provider.js';
import { useTallyMutation, useTallyQuery } from './query.js';

afterEach(cleanup);

function Available({ label }: { label: string }) {
  const me = useMe();
  return (
    <p data-testid={label} data-status={me.status} data-fetching={String(me.fetching)}>
      {me.data?.balance.availableMicros ?? '-'}
    </p>
  );
}

function Balance() {
  const balance = useBalance();
  return (
    <div>
      <p data-testid="state">{balance.status === 'error' ? (balance.error as { code?: string }).code : balance.status}</p>
      <button type="button" onClick={() => void balance.refetch()}>
        retry
      </button>
      <p data-testid="value">{balance.data?.availableMicros}</p>
    </div>
  );
}

function PreviewOf({ tier }: { tier: string | null }) {
  const preview = useTierChangePreview(tier);
  return <p data-testid="due">{preview.data?.amountDueCents ?? `${preview.status}/${preview.fetching}`}</p>;
}

function Page({ cursor }: { cursor?: string }) {
  const page = useTransactions({ cursor, limit: 2 });
  return <p data-testid="ids">{page.data?.items.map((e) => e.id).join(',')}</p>;
}

/** What the probe components below saw last, for the tests to drive. */
const probes: {
  redeem?: (code: string) => Promise<unknown>;
  mutation?: ReturnType<typeof useRedeemCoupon>;
} = {};

function Redeemer() {
  probes.redeem = useRedeemCoupon().mutate;
  return null;
}

function Probe() {
  const mutation = useTallyMutation((c, code: string) => c.redeemCoupon(code), []);
  probes.mutation = mutation;
  return <p data-testid="status">{mutation.status}</p>;
}

function Lonely() {
  useTallyQuery(['x'], async () => 1);
  return null;
}

describe('useTallyQuery', () => {
  it('loads once for every component that reads the same key, and shares the answer', async () => {
    const { client } = renderWithTally(
      <>
        <Available label="a" />
        <Available label="b" />
      </>,
    );
    expect(screen.getByTestId('a').dataset.status).toBe('loading');
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('25500000'));
    expect(screen.getByTestId('b').textContent).toBe('25500000');
    expect(client.calls).toEqual(['me']);
  });

  it('keeps an error with its code, and refetch tries again', async () => {
    const client = createFakeClient();
    client.fail('balance', 'PROVIDER_UNAVAILABLE');
    renderWithTally(<Balance />, client);
    await waitFor(() => expect(screen.getByTestId('state').textContent).toBe('PROVIDER_UNAVAILABLE'));
    client.heal('balance');
    fireEvent.click(screen.getByText('retry'));
    await waitFor(() => expect(screen.getByTestId('value').textContent).toBe('25500000'));
    expect(screen.getByTestId('state').textContent).toBe('success');
    expect(client.calls).toEqual(['balance', 'balance']);
  });

  it('waits while disabled: no preview is asked for until a tier is picked', async () => {
    const client = createFakeClient();
    const { rerender } = render(
      <TallyProvider client={client}>
        <PreviewOf tier={null} />
      </TallyProvider>,
    );
    await act(() => Promise.resolve());
    expect(screen.getByTestId('due').textContent).toBe('loading/false');
    expect(client.calls).toEqual([]);
    rerender(
      <TallyProvider client={client}>
        <PreviewOf tier="professional" />
      </TallyProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('due').textContent).toBe('1489'));
    expect(client.calls).toEqual(['previewTierChange:professional']);
  });

  it('keys by the query value: another page is another request, the same page comes from the cache', async () => {
    const client = createFakeClient();
    const view = (cursor?: string) => (
      <TallyProvider client={client} cache={cache}>
        <Page cursor={cursor} />
      </TallyProvider>
    );
    const cache = createTallyCache();
    const { rerender } = render(view());
    await waitFor(() => expect(screen.getByTestId('ids').textContent).toBe('e0,e1'));
    rerender(view('2'));
    await waitFor(() => expect(screen.getByTestId('ids').textContent).toBe('e2,e3'));
    rerender(view());
    expect(screen.getByTestId('ids').textContent).toBe('e0,e1');
    expect(client.calls).toEqual(['transactions:{"limit":2}', 'transactions:{"cursor":"2","limit":2}']);
  });

  it('a mutation refreshes the queries it names before it resolves', async () => {
    const client = createFakeClient();
    renderWithTally(
      <>
        <Available label="a" />
        <Redeemer />
      </>,
      client,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('25500000'));
    await act(async () => {
      await probes.redeem?.('WELCOME5');
    });
    expect(screen.getByTestId('a').textContent).toBe('30500000');
    expect(client.calls).toEqual(['me', 'redeemCoupon:WELCOME5', 'me']);
  });

  it('a new client gets a new cache: one customer never sees another one’s answers', async () => {
    const first = createFakeClient();
    const second = createFakeClient();
    second.state.me.balance.availableMicros = '1';
    const { rerender } = render(
      <TallyProvider client={first}>
        <Available label="a" />
      </TallyProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('25500000'));
    rerender(
      <TallyProvider client={second}>
        <Available label="a" />
      </TallyProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('1'));
  });

  it('says clearly when used outside the provider', () => {
    const quiet = console.error;
    console.error = () => {};
    try {
      expect(() => render(<Lonely />)).toThrow(/inside <TallyProvider/);
    } finally {
      console.error = quiet;
    }
  });
});

describe('useTallyMutation', () => {
  it('reports pending, success and error, and only the latest call sets the state', async () => {
    const client = createFakeClient();
    const release = client.hold('redeemCoupon');
    renderWithTally(<Probe />, client);
    const mutation = () => {
      if (!probes.mutation) throw new Error('Probe did not render');
      return probes.mutation;
    };
    let first: Promise<unknown> | undefined;
    act(() => {
      first = mutation()
        .mutate('WELCOME5')
        .catch(() => 'ignored');
    });
    expect(screen.getByTestId('status').textContent).toBe('pending');
    // A second call while the first is held: its failure is what the state shows.
    client.fail('redeemCoupon', 'COUPON_EXPIRED');
    let second: Promise<unknown> | undefined;
    act(() => {
      second = mutation()
        .mutate('SAVE20')
        .catch((error: { code: string }) => error.code);
    });
    await act(async () => {
      release();
      expect(await second).toBe('COUPON_EXPIRED');
      await first;
    });
    expect(screen.getByTestId('status').textContent).toBe('error');
    expect((mutation().error as { code?: string }).code).toBe('COUPON_EXPIRED');
    act(() => mutation().reset());
    expect(screen.getByTestId('status').textContent).toBe('idle');
  });
});
