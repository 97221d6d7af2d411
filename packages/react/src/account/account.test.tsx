// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClient, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { CreditBalance } from './credit-balance.js';
import { LowBalanceBanner, noticeFor } from './low-balance-banner.js';

afterEach(cleanup);

describe('CreditBalance', () => {
  it('shows the available credits, the plan and where the credits come from', async () => {
    const state = starterState();
    state.me.balance.heldMicros = '500000';
    state.me.providerBalances = [
      {
        provider: 'openrouter',
        source: 'byok',
        limitNanoUsd: '25000000000',
        usageNanoUsd: '7450000000',
        remainingNanoUsd: '17550000000',
        low: false,
        syncedAt: '2026-11-20T14:00:00.000Z',
      },
    ];
    renderWithTally(<CreditBalance />, createFakeClient(state));
    const region = await screen.findByRole('region', { name: 'Credit balance' });
    await within(region).findByText('available to spend');
    expect(region.querySelector('.tally-credit-balance__amount data')?.getAttribute('value')).toBe('25500000');
    expect(within(region).getByText('25.50 credits')).toBeTruthy();
    expect(within(region).getByText('Starter plan')).toBeTruthy();
    const rows = [...region.querySelectorAll('.tally-totals__row')].map((row) => row.textContent);
    expect(rows).toEqual([
      'Plan allowance · until Dec 5, 202615.50 credits',
      'Purchased10.00 credits',
      'Held for calls in progress-0.50 credits',
    ]);
    expect(within(region).getByText(/Your OpenRouter key: \$17\.55 left/)).toBeTruthy();
  });

  it('designs the unlimited, empty and past-due cases', async () => {
    const unlimited = starterState();
    unlimited.me.unlimited = true;
    renderWithTally(<CreditBalance />, createFakeClient(unlimited));
    expect(await screen.findByText('Unlimited')).toBeTruthy();
    cleanup();

    const empty = starterState();
    empty.me.balance = { ...empty.me.balance, availableMicros: '0', balanceMicros: '0', buckets: [], allowance: null };
    renderWithTally(<CreditBalance />, createFakeClient(empty));
    expect(await screen.findByText('No credits to spend right now.')).toBeTruthy();
    expect(document.querySelector('.tally-totals')).toBeNull();
    cleanup();

    const pastDue = starterState();
    if (pastDue.me.subscription) {
      pastDue.me.subscription.status = 'past_due';
      pastDue.me.subscription.pastDueSince = '2026-11-16T09:00:00.000Z';
    }
    renderWithTally(<CreditBalance />, createFakeClient(pastDue));
    expect(await screen.findByText('Payment past due')).toBeTruthy();
    expect(screen.getByText(/The payment due Nov 16, 2026 failed/)).toBeTruthy();
  });

  it('says what failed and retries', async () => {
    const client = createFakeClient();
    client.fail('me', 'UNAUTHENTICATED');
    renderWithTally(<CreditBalance />, client);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Your balance could not be loaded.');
    client.heal('me');
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('available to spend')).toBeTruthy();
  });
});

describe('LowBalanceBanner', () => {
  it('stays silent for a healthy balance, while loading and on errors', async () => {
    const { client, container } = renderWithTally(<LowBalanceBanner />);
    await waitFor(() => expect(client.calls).toEqual(['me']));
    expect(container.innerHTML).toBe('');
  });

  it('warns under 10 % of the allowance with the given action', async () => {
    const state = starterState();
    state.me.balance.availableMicros = '1500000';
    renderWithTally(
      <LowBalanceBanner
        action={
          <a className="tally-link" href="/billing">
            Add credits
          </a>
        }
      />,
      createFakeClient(state),
    );
    const banner = await screen.findByRole('status');
    expect(banner.getAttribute('data-reason')).toBe('low');
    expect(banner.textContent).toContain("1.50 credits left of this period's 20 credits.");
    expect(within(banner).getByRole('link', { name: 'Add credits' })).toBeTruthy();
  });

  it('puts a failed payment first, with a button that opens the payment portal', async () => {
    const state = starterState();
    if (state.me.subscription) state.me.subscription.status = 'past_due';
    state.me.balance.availableMicros = '0';
    const { navigated, client } = renderWithTally(<LowBalanceBanner />, createFakeClient(state));
    const banner = await screen.findByRole('status');
    expect(banner.getAttribute('data-reason')).toBe('past_due');
    fireEvent.click(within(banner).getByRole('button', { name: 'Update payment method' }));
    await waitFor(() => expect(navigated).toEqual(['https://pay.example/portal/ps_1']));
    expect(client.calls.at(-1)).toMatch(/^paymentMethodPortal:\{"returnUrl":"http/);
  });

  it('chooses the most pressing notice', () => {
    const state = starterState();
    expect(noticeFor(state.me)).toBeNull();
    state.me.providerBalances = [
      {
        provider: 'openrouter',
        source: 'byok',
        limitNanoUsd: null,
        usageNanoUsd: '0',
        remainingNanoUsd: '1200000000',
        low: true,
        syncedAt: '',
      },
    ];
    expect(noticeFor(state.me)?.reason).toBe('provider_low');
    state.me.balance.availableMicros = '-1';
    expect(noticeFor(state.me)?.reason).toBe('exhausted');
    state.me.unlimited = true;
    expect(noticeFor(state.me)?.reason).toBe('provider_low');
  });
});
