// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { useMe } from '../account/hooks.js';
import { renderWithTally } from '../testing/render.js';
import { CouponRedeemForm } from './coupon-redeem-form.js';

afterEach(cleanup);

function Available() {
  const me = useMe();
  return <p data-testid="available">{me.data?.balance.availableMicros}</p>;
}

function type(value: string) {
  fireEvent.change(screen.getByLabelText('Coupon code'), { target: { value } });
}

describe('CouponRedeemForm', () => {
  it('redeems a credits coupon, says what it gave and refreshes the balance', async () => {
    const redeemed: string[] = [];
    const { client } = renderWithTally(
      <>
        <Available />
        <CouponRedeemForm onRedeemed={(r) => redeemed.push(r.code)} />
      </>,
    );
    await waitFor(() => expect(screen.getByTestId('available').textContent).toBe('25500000'));
    type('  WELCOME5 ');
    fireEvent.click(screen.getByRole('button', { name: 'Redeem' }));
    expect(await screen.findByText('WELCOME5 redeemed: 5 credits added. They expire in 30 days.')).toBeTruthy();
    expect(screen.getByTestId('available').textContent).toBe('30500000');
    expect((screen.getByLabelText('Coupon code') as HTMLInputElement).value).toBe('');
    expect(redeemed).toEqual(['WELCOME5']);
    expect(client.calls).toEqual(['me', 'redeemCoupon:WELCOME5', 'me']);
  });

  it('describes a percent-off coupon', async () => {
    renderWithTally(<CouponRedeemForm />);
    type('SAVE20');
    fireEvent.submit(screen.getByRole('form', { name: 'Redeem a coupon' }));
    expect(await screen.findByText('SAVE20 redeemed: 20% off your next 3 invoices.')).toBeTruthy();
  });

  it('marks the field invalid with the reason, and clears it when the code is edited', async () => {
    const { client } = renderWithTally(<CouponRedeemForm />);
    type('NOPE');
    fireEvent.click(screen.getByRole('button', { name: 'Redeem' }));
    const message = await screen.findByText('We do not know that code. Check it for typos.');
    const input = screen.getByLabelText('Coupon code');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe(message.closest('[role="status"]')?.id);
    type('NOPE2');
    expect(input.getAttribute('aria-invalid')).toBeNull();
    expect(screen.queryByText(/We do not know that code/)).toBeNull();
    expect(client.calls).toEqual(['redeemCoupon:NOPE']);
  });

  it('sends nothing for an empty code', () => {
    const { client } = renderWithTally(<CouponRedeemForm />);
    const submit = screen.getByRole('button', { name: 'Redeem' });
    expect(submit.getAttribute('aria-disabled')).toBe('true');
    type('   ');
    fireEvent.click(submit);
    expect(client.calls).toEqual([]);
  });
});
