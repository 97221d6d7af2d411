// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMER, createTestServer, customerPrincipal, problem, renderApp } from './test-support.tsx';

afterEach(cleanup);

/** The meter's "used" percentage, as the widget exposes it. */
async function meterValue(): Promise<number> {
  const meter = await screen.findByRole('meter');
  return Number(meter.getAttribute('aria-valuenow'));
}

describe('playground', () => {
  it('sends the prompt at the chosen power level, shows the charge and the meter moves', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/playground');

    expect(await screen.findByRole('heading', { level: 1, name: 'Playground' })).toBeTruthy();
    const before = await meterValue();
    const balanceBefore = (await server.tally.balance(CUSTOMER)).balanceMicros;

    fireEvent.change(screen.getByLabelText('Prompt'), { target: { value: '  Explain credits.  ' } });
    fireEvent.change(screen.getByLabelText('Power level'), { target: { value: 'precision' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send prompt' }));

    const status = await screen.findByText(/^Charged/);
    const calls = server.requests.filter((request) => request.path === '/demo/playground');
    expect(calls).toEqual([{ method: 'POST', path: '/demo/playground', body: { prompt: 'Explain credits.', powerLevel: 'precision' } }]);

    // What the page says was charged is what the ledger took.
    const balanceAfter = (await server.tally.balance(CUSTOMER)).balanceMicros;
    const charged = balanceBefore - balanceAfter;
    expect(charged).toBeGreaterThan(0n);
    const amounts = within(status.closest('p') as HTMLElement).getAllByText(/credits/);
    expect(amounts[0]?.getAttribute('value')).toBe(charged.toString());
    expect(amounts[1]?.getAttribute('value')).toBe(balanceAfter.toString());
    expect(screen.getByText('Echo: Explain credits.')).toBeTruthy();

    // The page reloads the balance after the call: the meter shows more used.
    await waitFor(async () => expect(await meterValue()).toBeGreaterThan(before));
  });

  it('reloads the meter when the event stream reports a ledger entry for this customer', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/playground');
    const before = await meterValue();
    await waitFor(() => expect(server.streams.length).toBeGreaterThan(0));
    const stream = server.streams.at(-1);
    stream?.open();

    // Spent elsewhere (another tab, the API): the event alone must bring the meter up to date.
    await server.tally.meter({
      customerId: CUSTOMER,
      model: 'openai/gpt-4o',
      usage: { inputTokens: 300_000, outputTokens: 80_000 },
      idempotencyKey: 'elsewhere',
    });
    stream?.emit('ledger', { customerId: 'cus_someone_else', at: new Date().toISOString() });
    stream?.emit('ledger', { customerId: CUSTOMER, at: new Date().toISOString() });
    await waitFor(async () => expect(await meterValue()).toBeGreaterThan(before));
  });

  it("shows the server's problem detail when the call is refused", async () => {
    const server = await createTestServer(customerPrincipal);
    server.playground = async () => problem(402, 'INSUFFICIENT_CREDITS', 'You need 0.42 more credits for this call.');
    renderApp(server, '/app/playground');
    fireEvent.change(await screen.findByLabelText('Prompt'), { target: { value: 'Hello' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send prompt' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('You need 0.42 more credits for this call.');
  });

  it('refuses an empty prompt without calling the server', async () => {
    const server = await createTestServer(customerPrincipal);
    renderApp(server, '/app/playground');
    fireEvent.change(await screen.findByLabelText('Prompt'), { target: { value: '   ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send prompt' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Write a prompt first.');
    expect(server.requests.some((request) => request.path === '/demo/playground')).toBe(false);
  });
});
