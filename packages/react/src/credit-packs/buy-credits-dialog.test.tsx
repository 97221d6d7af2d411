// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClient, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { BuyCreditsDialog } from './buy-credits-dialog.js';

afterEach(cleanup);

async function open() {
  fireEvent.click(screen.getByRole('button', { name: 'Buy credits' }));
  return screen.findByRole('dialog', { name: 'Buy credits' });
}

describe('BuyCreditsDialog', () => {
  it('buys the picked pack through checkout', async () => {
    const { navigated, client } = renderWithTally(<BuyCreditsDialog />);
    const dialog = await open();
    fireEvent.click(await within(dialog).findByRole('radio', { name: /50 credits/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Buy 50 credits for $45.00' }));
    await waitFor(() => expect(navigated).toEqual(['https://pay.example/checkout/credits-50']));
    expect(client.calls).toContain('buyCreditPack:credits-50');
    expect(within(dialog).getByRole('link', { name: 'Continue to checkout' }).getAttribute('href')).toBe(
      'https://pay.example/checkout/credits-50',
    );
  });

  it('saves auto-recharge with the threshold parsed exactly into micros', async () => {
    const { client } = renderWithTally(<BuyCreditsDialog />);
    const dialog = await open();
    const threshold = await within(dialog).findByLabelText('When the balance falls below (credits)');
    expect((threshold as HTMLInputElement).value).toBe('0');
    fireEvent.click(within(dialog).getByLabelText('Top up automatically when my balance runs low'));
    fireEvent.change(threshold, { target: { value: '2.000001' } });
    fireEvent.change(within(dialog).getByLabelText('Buy this pack'), { target: { value: 'credits-50' } });
    fireEvent.change(within(dialog).getByLabelText('At most, times a month'), { target: { value: '2' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save auto-recharge' }));
    expect(await within(dialog).findByText('Saved. We will buy 50 credits when your balance falls below 2.000001 credits.')).toBeTruthy();
    expect(client.state.autoRecharge).toEqual({ enabled: true, thresholdMicros: '2000001', packId: 'credits-50', maxPerMonth: 2 });
  });

  it('refuses a threshold it cannot represent exactly, and sends nothing', async () => {
    const { client } = renderWithTally(<BuyCreditsDialog />);
    const dialog = await open();
    const threshold = await within(dialog).findByLabelText('When the balance falls below (credits)');
    for (const bad of ['1.0000001', '1e3', 'five', '-1']) {
      fireEvent.change(threshold, { target: { value: bad } });
      fireEvent.click(within(dialog).getByRole('button', { name: 'Save auto-recharge' }));
      expect(threshold.getAttribute('aria-invalid')).toBe('true');
      const problem = document.getElementById(threshold.getAttribute('aria-describedby') ?? '');
      expect(problem?.textContent).toMatch(/credits/);
    }
    fireEvent.change(threshold, { target: { value: '5' } });
    fireEvent.change(within(dialog).getByLabelText('At most, times a month'), { target: { value: '0' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save auto-recharge' }));
    expect(within(dialog).getByLabelText('At most, times a month').getAttribute('aria-invalid')).toBe('true');
    expect(client.calls.some((c) => c.startsWith('setAutoRecharge'))).toBe(false);
  });

  it('says so when there are no packs', async () => {
    const state = starterState();
    state.packs = [];
    renderWithTally(<BuyCreditsDialog />, createFakeClient(state));
    const dialog = await open();
    expect(await within(dialog).findByText('No credit packs are on sale right now.')).toBeTruthy();
    expect(within(dialog).getByText('Auto-recharge needs a credit pack to buy.')).toBeTruthy();
  });
});
