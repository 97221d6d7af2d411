// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWithTally } from '../testing/render.js';
import { NotificationPreferences } from './notification-preferences.js';

afterEach(cleanup);

describe('NotificationPreferences', () => {
  it('shows each category; a required one is on, disabled and says why', async () => {
    renderWithTally(<NotificationPreferences />);
    const low = (await screen.findByRole('checkbox', { name: 'Low balance' })) as HTMLInputElement;
    expect(low.checked).toBe(true);
    expect((screen.getByRole('checkbox', { name: 'Monthly reset' }) as HTMLInputElement).checked).toBe(false);
    const required = screen.getByRole('checkbox', { name: 'Payment failed' }) as HTMLInputElement;
    expect(required.checked).toBe(true);
    expect(required.disabled).toBe(true);
    expect(document.getElementById(required.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'Your access depends on a working payment.',
    );
  });

  it('saves only what changed and confirms', async () => {
    const { client } = renderWithTally(<NotificationPreferences />);
    const save = await screen.findByRole('button', { name: 'Save preferences' });
    expect(save.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Monthly reset' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Low balance' }));
    expect(save.getAttribute('aria-disabled')).toBeNull();
    fireEvent.click(save);
    expect(await screen.findByText('Saved.')).toBeTruthy();
    expect(client.calls).toEqual([
      'notificationPreferences',
      'setNotificationPreferences:{"categories":[{"id":"low_balance","enabled":false},{"id":"monthly_reset","enabled":true}]}',
      'notificationPreferences',
    ]);
    await waitFor(() => expect((screen.getByRole('checkbox', { name: 'Monthly reset' }) as HTMLInputElement).checked).toBe(true));
  });

  it('reports a refused save', async () => {
    const { client } = renderWithTally(<NotificationPreferences />);
    client.fail('setNotificationPreferences', 'VALIDATION');
    fireEvent.click(await screen.findByRole('checkbox', { name: 'Monthly reset' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save preferences' }));
    expect(await screen.findByText('Some of the details are not valid.')).toBeTruthy();
  });
});
