// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClient, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { UsageMeter } from './usage-meter.js';
import { usageMeterState } from './usage-meter-parts.js';

afterEach(cleanup);

describe('UsageMeter', () => {
  it('shows the used share of the allowance as a labelled meter', async () => {
    renderWithTally(<UsageMeter />);
    const meter = await screen.findByRole('meter');
    // 4.5 of 20 credits used: 22 % (rounded down), said in words too.
    expect(meter.getAttribute('aria-valuenow')).toBe('22');
    expect(meter.getAttribute('aria-valuetext')).toBe('4.50 of 20 credits used');
    expect(document.getElementById(meter.getAttribute('aria-labelledby') ?? '')?.textContent).toBe('Credits this period');
    expect(meter.closest('[data-state]')?.getAttribute('data-state')).toBe('normal');
    expect(screen.getByText(/15\.50 credits left · resets Dec 5, 2026/)).toBeTruthy();
    const indicator = meter.firstElementChild as HTMLElement;
    expect(indicator.dataset.value).toBe('22');
  });

  it('warns when under 10 % is left and when the allowance is used up', async () => {
    const low = starterState();
    if (low.me.balance.allowance) low.me.balance.allowance.remainingMicros = '1999999';
    renderWithTally(<UsageMeter />, createFakeClient(low));
    expect((await screen.findByRole('meter')).getAttribute('data-state')).toBe('low');
    expect(screen.getByText(/Less than 10%/)).toBeTruthy();
    cleanup();

    const out = starterState();
    if (out.me.balance.allowance) out.me.balance.allowance.remainingMicros = '0';
    renderWithTally(<UsageMeter />, createFakeClient(out));
    const meter = await screen.findByRole('meter');
    expect(meter.getAttribute('data-state')).toBe('exhausted');
    expect(meter.getAttribute('aria-valuenow')).toBe('100');
    expect(screen.getByText(/used this period's allowance/)).toBeTruthy();
  });

  it('has no meter on an unlimited plan, and says so', async () => {
    const state = starterState();
    state.me.unlimited = true;
    state.me.tier = { id: 'enterprise', name: 'Enterprise' };
    state.me.balance.allowance = null;
    renderWithTally(<UsageMeter title="Usage" />, createFakeClient(state));
    expect(await screen.findByText('Unlimited')).toBeTruthy();
    expect(screen.queryByRole('meter')).toBeNull();
    expect(screen.getByText(/Enterprise plan has no credit limit/)).toBeTruthy();
  });

  it('shows a loading state, then an error with a retry that works', async () => {
    const client = createFakeClient();
    client.fail('me', 'INTERNAL');
    const { container } = renderWithTally(<UsageMeter />, client);
    expect(screen.getByRole('status').textContent).toContain('Loading your credits');
    expect(container.querySelector('[aria-busy="true"]')).toBeTruthy();
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Your credits could not be loaded.');
    expect(alert.textContent).toContain('Something went wrong on our side');
    client.heal('me');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('meter')).toBeTruthy();
    await waitFor(() => expect(container.querySelector('[aria-busy="true"]')).toBeNull());
  });

  it('tells a past-due customer why the allowance is at risk', async () => {
    const state = starterState();
    if (state.me.subscription) state.me.subscription.status = 'past_due';
    renderWithTally(<UsageMeter />, createFakeClient(state));
    expect(await screen.findByText(/last payment failed/)).toBeTruthy();
  });

  it('parts compose with asChild and expose data-state', () => {
    render(
      <UsageMeter.Root used={19_000_000n} limit={20_000_000n} valueText="19 of 20">
        <UsageMeter.Label asChild>
          <h3>Tokens</h3>
        </UsageMeter.Label>
        <UsageMeter.Track>
          <UsageMeter.Indicator />
        </UsageMeter.Track>
      </UsageMeter.Root>,
    );
    const meter = screen.getByRole('meter', { name: 'Tokens' });
    expect(meter.getAttribute('aria-valuenow')).toBe('95');
    expect(screen.getByRole('heading', { name: 'Tokens' }).getAttribute('data-state')).toBe('low');
  });

  it('decides the state with bigint arithmetic', () => {
    expect(usageMeterState(0n, null)).toBe('unlimited');
    expect(usageMeterState(18_000_000n, 20_000_000n)).toBe('normal');
    expect(usageMeterState(18_000_001n, 20_000_000n)).toBe('low');
    expect(usageMeterState(20_000_000n, 20_000_000n)).toBe('exhausted');
    expect(usageMeterState(2n ** 64n - 1n, 2n ** 64n, 25)).toBe('low');
  });
});
