// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { adminPrincipal, CUSTOMER, createTestServer, customerPrincipal, ORIGIN, renderApp } from './test-support.tsx';

afterEach(cleanup);

describe('the app', () => {
  it('sends a signed-out visitor to sign in, then on to the page they asked for', async () => {
    const server = await createTestServer(null);
    renderApp(server, '/app/coupons');
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in to the Tally demo' })).toBeTruthy();
    expect(window.location.pathname).toBe('/');
    expect(new URLSearchParams(window.location.search).get('next')).toBe('/app/coupons');

    const picker = await screen.findByLabelText('Sample customer');
    await waitFor(() => expect((picker as HTMLSelectElement).options.length).toBe(2));
    fireEvent.change(picker, { target: { value: CUSTOMER } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in as customer' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Coupons' })).toBeTruthy();
    expect(window.location.pathname).toBe('/app/coupons');
    expect(server.requests.find((request) => request.path === '/demo/sign-in')?.body).toEqual({ as: CUSTOMER });
    expect(screen.getByRole('navigation', { name: 'Customer pages' })).toBeTruthy();
  });

  it('keeps customers out of the admin pages', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/admin/customers');
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in to the Tally demo' })).toBeTruthy();
    expect(server.requests.some((request) => request.path.startsWith('/v1/admin'))).toBe(false);
  });

  it('signs in as admin and lands on the health page', async () => {
    const server = await createTestServer(null);
    renderApp(server, '/');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign in as admin' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'System health' })).toBeTruthy();
    expect(screen.getByRole('navigation', { name: 'Admin pages' })).toBeTruthy();
  });

  it('reloads everything after a checkout and says so', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/account?checkout=done');
    expect(await screen.findByText(/Checkout complete/)).toBeTruthy();
    expect(await screen.findByRole('meter')).toBeTruthy();
  });

  it('opens the payment portal with an absolute return URL on this origin', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/account');
    fireEvent.click(await screen.findByRole('button', { name: 'Manage payment method' }));
    await waitFor(() => expect(server.assigned).toHaveLength(1));
    expect(server.requests.find((request) => request.path === '/v1/payment-method/portal')?.body).toEqual({
      returnUrl: `${ORIGIN}/app/account`,
    });
  });

  it('signs out back to the sign-in page', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/account');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in to the Tally demo' })).toBeTruthy();
    expect(server.principal).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('grants credits to a customer with a reason, through the admin API', async () => {
    const server = await createTestServer(adminPrincipal);
    renderApp(server, '/admin/customers');
    fireEvent.click(await screen.findByRole('button', { name: `Manage ${CUSTOMER}` }));
    const detail = await screen.findByRole('region', { name: CUSTOMER });
    const before = (await server.tally.balance(CUSTOMER)).balanceMicros;
    const grant = within(detail).getByRole('form', { name: 'Grant credits' });

    // Bad input is refused on the page: nothing is sent.
    fireEvent.change(within(grant).getByLabelText('Amount (credits)'), { target: { value: '2.5' } });
    fireEvent.submit(grant);
    expect((await within(grant).findByText(/Reason: say why/)).textContent).toBeTruthy();
    expect(server.requests.some((request) => request.path.endsWith('/grant'))).toBe(false);

    fireEvent.change(within(grant).getByLabelText('Reason'), { target: { value: 'Goodwill for the outage' } });
    fireEvent.submit(grant);
    expect(await within(grant).findByText(/Granted 2\.5 credits/)).toBeTruthy();
    const sent = server.requests.filter((request) => request.path === `/v1/admin/customers/${CUSTOMER}/grant`);
    expect(sent).toEqual([
      {
        method: 'POST',
        path: `/v1/admin/customers/${CUSTOMER}/grant`,
        body: { amountMicros: '2500000', description: 'Goodwill for the outage' },
      },
    ]);
    expect((await server.tally.balance(CUSTOMER)).balanceMicros - before).toBe(2_500_000n);
  });
});
