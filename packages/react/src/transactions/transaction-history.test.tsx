// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClient, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { TransactionHistory } from './transaction-history.js';

afterEach(cleanup);

describe('TransactionHistory', () => {
  it('shows a page of entries with labelled cells, amounts exact', async () => {
    renderWithTally(<TransactionHistory pageSize={2} />);
    const table = await screen.findByRole('table', { name: 'Transactions' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((row) => [...row.querySelectorAll('td')].map((td) => `${td.dataset.label}=${td.textContent}`))).toEqual([
      ['Date=Nov 19, 2026, 10:00 AM', 'Description=Monthly allowance', 'Type=Credits added', 'Amount=20.00 credits'],
      ['Date=Nov 18, 2026, 10:00 AM', 'Description=openai/gpt-4o · 120,000 in / 3,000 out tokens', 'Type=Usage', 'Amount=-1.25 credits'],
    ]);
    expect(rows[1]?.querySelector('data')?.getAttribute('value')).toBe('-1250000');
  });

  it('pages by cursor forwards and back', async () => {
    const { client } = renderWithTally(<TransactionHistory pageSize={2} />);
    await screen.findByRole('table');
    const newer = screen.getByRole('button', { name: 'Newer' });
    expect(newer.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(screen.getByText('Page 2')).toBeTruthy());
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(3));
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2));
    expect(screen.getByRole('button', { name: 'Older' }).getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Newer' }));
    await waitFor(() => expect(screen.getByText('Page 2')).toBeTruthy());
    expect(client.calls).toEqual([
      'transactions:{"limit":2}',
      'transactions:{"cursor":"2","limit":2}',
      'transactions:{"cursor":"4","limit":2}',
    ]);
  });

  it('filters by kind from the first page', async () => {
    const { client } = renderWithTally(<TransactionHistory />);
    await screen.findByRole('table');
    fireEvent.change(screen.getByLabelText('Show'), { target: { value: 'grant' } });
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2));
    expect(client.calls.at(-1)).toBe('transactions:{"kind":"grant","limit":20}');
    fireEvent.change(screen.getByLabelText('Show'), { target: { value: 'clawback' } });
    expect(await screen.findByText('No transactions of this kind yet.')).toBeTruthy();
  });

  it('has an empty state and an error state', async () => {
    const state = starterState();
    state.entries = [];
    renderWithTally(<TransactionHistory />, createFakeClient(state));
    expect(await screen.findByText(/No transactions yet/)).toBeTruthy();
    expect(screen.queryByRole('navigation')).toBeNull();
    cleanup();
    const client = createFakeClient();
    client.fail('transactions', 'FORBIDDEN');
    renderWithTally(<TransactionHistory />, client);
    expect((await screen.findByRole('alert')).textContent).toContain('You are not allowed to do this.');
  });
});
