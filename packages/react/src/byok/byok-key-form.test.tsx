// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWithTally } from '../testing/render.js';
import { ByokKeyForm } from './byok-key-form.js';

afterEach(cleanup);

describe('ByokKeyForm', () => {
  it('stores a key, shows only its last 4 characters and clears the field', async () => {
    const { client } = renderWithTally(<ByokKeyForm />);
    expect(await screen.findByText('No keys stored. Calls use your credits.')).toBeTruthy();
    const input = screen.getByLabelText('OpenRouter API key') as HTMLInputElement;
    expect(input.type).toBe('password');
    fireEvent.change(input, { target: { value: 'sk-or-v1-secret-9f3c' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save key' }));
    expect(await screen.findByText('Saved. Calls to OpenRouter now use your key ending in 9f3c.')).toBeTruthy();
    expect(input.value).toBe('');
    const list = await screen.findByRole('list', { name: 'Stored keys' });
    expect(within(list).getByText('key ending in 9f3c')).toBeTruthy();
    expect(document.body.textContent).not.toContain('secret');
    // The list is loaded again; `me` (provider balances) too, once something shows it.
    expect(client.calls).toEqual(['byokKeys', 'setByokKey:openrouter', 'byokKeys']);
  });

  it('removes a key', async () => {
    const { client } = renderWithTally(<ByokKeyForm />);
    client.state.byokKeys = [
      { provider: 'openrouter', last4: 'abcd', keyId: 'k', createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-02T00:00:00.000Z' },
    ];
    fireEvent.click(await screen.findByRole('button', { name: 'Remove OpenRouter key' }));
    expect(await screen.findByText('Removed your OpenRouter key. Calls use your credits again.')).toBeTruthy();
    expect(await screen.findByText('No keys stored. Calls use your credits.')).toBeTruthy();
  });

  it('lets the customer pick among several providers and reports a refused key', async () => {
    const { client } = renderWithTally(
      <ByokKeyForm
        providers={[
          { id: 'openrouter', name: 'OpenRouter' },
          { id: 'anthropic', name: 'Anthropic' },
        ]}
      />,
    );
    client.fail('setByokKey', 'VALIDATION');
    fireEvent.change(await screen.findByLabelText('Provider'), { target: { value: 'anthropic' } });
    const input = screen.getByLabelText('Anthropic API key');
    fireEvent.change(input, { target: { value: 'short' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save key' }));
    expect(await screen.findByText('Some of the details are not valid.')).toBeTruthy();
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(client.calls).toContain('setByokKey:anthropic');
  });
});
