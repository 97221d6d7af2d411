// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { TallyProvider } from '../provider/provider.js';
import { createFakeClient, starterState } from '../testing/fake-client.js';
import { renderWithTally } from '../testing/render.js';
import { PricingTable } from './pricing-table.js';
import { TierUpgrade } from './tier-upgrade.js';
import { TierUpgradeModal } from './tier-upgrade-modal.js';

afterEach(cleanup);

async function openAndPick(tierName: RegExp) {
  fireEvent.click(screen.getByRole('button', { name: 'Change plan' }));
  const dialog = await screen.findByRole('dialog', { name: 'Change your plan' });
  const radio = await within(dialog).findByRole('radio', { name: tierName });
  fireEvent.click(radio);
  return dialog;
}

function Owner({ changes }: { changes: string[] }) {
  const [open, setOpen] = useState(false);
  const [tier, setTier] = useState<string | null>('professional');
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Upgrade
      </button>
      <TierUpgradeModal
        trigger={null}
        open={open}
        onOpenChange={(next) => {
          changes.push(`open:${next}`);
          setOpen(next);
        }}
        tier={tier}
        onTierChange={(next) => {
          changes.push(`tier:${next}`);
          setTier(next);
        }}
      />
    </>
  );
}

describe('TierUpgradeModal', () => {
  it('lists the tiers with the current one disabled, and focuses a tier on open', async () => {
    renderWithTally(<TierUpgradeModal />);
    fireEvent.click(screen.getByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('dialog', { name: 'Change your plan' });
    const radios = await within(dialog).findAllByRole('radio');
    expect(radios.map((r) => (r as HTMLInputElement).value)).toEqual(['trial', 'starter', 'professional', 'enterprise']);
    expect((radios[1] as HTMLInputElement).disabled).toBe(true);
    expect(radios[1]?.closest('label')?.hasAttribute('data-current')).toBe(true);
    expect(within(dialog).getByText(/You are on the Starter plan/)).toBeTruthy();
    expect(within(dialog).getByText('Pick a plan to see what changes and what you pay now.')).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(radios[0]));
  });

  it('shows the preview’s proration lines, amount due and credits granted exactly as the API sent them', async () => {
    const { client } = renderWithTally(<TierUpgradeModal />);
    const dialog = await openAndPick(/Professional/);
    const lines = await within(dialog).findByRole('list', { name: 'Proration lines' });
    const items = within(lines).getAllByRole('listitem');
    expect(
      items.map((li) => [
        li.querySelector('.tally-proration-line__description')?.textContent,
        li.querySelector('data')?.getAttribute('value'),
      ]),
    ).toEqual([
      ['Unused time on Starter', '-944'],
      ['Remaining time on Professional', '2433'],
    ]);
    expect(items[0]?.textContent).toContain('-$9.44');
    const due = within(dialog).getByText('Due now').nextElementSibling;
    expect(due?.textContent).toBe('$14.89');
    expect(within(dialog).getByText('Credits granted now').nextElementSibling?.textContent).toBe('19.87 credits');
    expect(within(dialog).getByText('Takes effect').nextElementSibling?.textContent).toBe('Now');
    expect(within(dialog).getByRole('button', { name: 'Upgrade and pay $14.89' })).toBeTruthy();
    expect(client.calls).toContain('previewTierChange:professional');
  });

  it('confirms an upgrade: goes to checkout, says so and moves focus to the outcome', async () => {
    const { client, navigated } = renderWithTally(<TierUpgradeModal />);
    const dialog = await openAndPick(/Professional/);
    const confirm = await within(dialog).findByRole('button', { name: /Upgrade and pay/ });
    fireEvent.click(confirm);
    const outcome = await within(dialog).findByText(/Finish the upgrade to Professional at checkout/);
    expect(navigated).toEqual(['https://pay.example/checkout/cs_1']);
    expect(client.calls.filter((c) => c.startsWith('changeTier'))).toEqual(['changeTier:professional']);
    // The preview is not asked for again around the change (from the new tier to itself it would be refused).
    expect(client.calls.filter((c) => c.startsWith('previewTierChange'))).toEqual(['previewTierChange:professional']);
    await waitFor(() => expect(document.activeElement).toBe(outcome.closest('[role="status"]')));
    expect(within(dialog).getByRole('link', { name: 'Open checkout' }).getAttribute('href')).toBe('https://pay.example/checkout/cs_1');
    // The tiers and the customer are loaded again: the change may have moved them.
    expect(client.calls.filter((c) => c === 'tiers').length).toBe(2);
    expect(within(dialog).getByRole('button', { name: 'Done' })).toBeTruthy();
  });

  it('schedules a downgrade for the period end and charges nothing now', async () => {
    const { navigated } = renderWithTally(<TierUpgradeModal />);
    const dialog = await openAndPick(/Trial/);
    expect(await within(dialog).findByText('Downgrade to Trial on Dec 5, 2026. Nothing is charged now.')).toBeTruthy();
    expect(within(dialog).queryByRole('list', { name: 'Proration lines' })).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Schedule downgrade' }));
    expect(await within(dialog).findByText('Your plan changes to Trial on Dec 5, 2026.')).toBeTruthy();
    expect(navigated).toEqual([]);
  });

  it('does nothing on confirm until a preview is ready, and shows a refused change without closing', async () => {
    const client = createFakeClient();
    client.fail('changeTier', 'PAYMENT_FAILED');
    renderWithTally(<TierUpgradeModal />, client);
    fireEvent.click(screen.getByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('dialog');
    const idle = await within(dialog).findByRole('button', { name: 'Confirm' });
    expect(idle.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(idle);
    expect(client.calls.some((c) => c.startsWith('changeTier'))).toBe(false);

    fireEvent.click(within(dialog).getByRole('radio', { name: /Professional/ }));
    fireEvent.click(await within(dialog).findByRole('button', { name: /Upgrade and pay/ }));
    expect(await within(dialog).findByText(/The payment did not go through/)).toBeTruthy();
    expect(screen.getByRole('dialog')).toBeTruthy();
  });

  it('shows a preview error with a retry', async () => {
    const client = createFakeClient();
    client.fail('previewTierChange', 'PROVIDER_UNAVAILABLE');
    renderWithTally(<TierUpgradeModal />, client);
    const dialog = await openAndPick(/Professional/);
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('The price could not be calculated.');
    client.heal('previewTierChange');
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await within(dialog).findByText('Due now')).toBeTruthy();
  });

  it('closes on Escape, returns focus to the trigger and forgets the pick', async () => {
    renderWithTally(<TierUpgradeModal />);
    const trigger = screen.getByRole('button', { name: 'Change plan' });
    trigger.focus();
    const dialog = await openAndPick(/Professional/);
    await within(dialog).findByText('Due now');
    fireEvent.keyDown(document.activeElement ?? dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(trigger));
    fireEvent.click(trigger);
    const again = await screen.findByRole('dialog');
    expect(
      within(again)
        .getAllByRole('radio')
        .some((r) => (r as HTMLInputElement).checked),
    ).toBe(false);
  });

  it('warns a past-due customer and mentions a scheduled change', async () => {
    const state = starterState();
    if (state.me.subscription) {
      state.me.subscription.status = 'past_due';
      state.me.subscription.scheduledChange = { tier: 'trial', at: '2026-12-05T09:00:00.000Z' };
    }
    renderWithTally(<TierUpgradeModal defaultOpen />, createFakeClient(state));
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText(/Update your payment method before you upgrade/)).toBeTruthy();
    expect(within(dialog).getByText('A change to Trial is scheduled for Dec 5, 2026.')).toBeTruthy();
  });

  it('can be controlled: open and tier come from the owner', async () => {
    const changes: string[] = [];
    renderWithTally(<Owner changes={changes} />);
    expect(screen.queryByRole('button', { name: 'Change plan' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Upgrade' }));
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText('Due now')).toBeTruthy();
    expect((within(dialog).getByRole('radio', { name: /Professional/ }) as HTMLInputElement).checked).toBe(true);
    fireEvent.click(within(dialog).getByRole('radio', { name: /Trial/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(changes).toEqual(['tier:trial', 'open:false']);
  });
});

describe('TierUpgrade parts', () => {
  it('compose into a custom dialog with onResult instead of navigation', async () => {
    const client = createFakeClient();
    const results: string[] = [];
    render(
      <TallyProvider client={client} navigate={() => results.push('navigated')}>
        <TierUpgrade.Root current="starter" defaultTier="professional" onResult={(r) => results.push(r.status)}>
          <TierUpgrade.Trigger asChild>
            <a href="#plans">Plans</a>
          </TierUpgrade.Trigger>
          <TierUpgrade.Content aria-describedby={undefined}>
            <TierUpgrade.Title>Pick</TierUpgrade.Title>
            <TierUpgrade.TierList legend="Tiers">
              <TierUpgrade.TierOption value="starter">Starter</TierUpgrade.TierOption>
              <TierUpgrade.TierOption value="professional">Pro</TierUpgrade.TierOption>
            </TierUpgrade.TierList>
            <TierUpgrade.Preview fallback={(state) => <p>{state}</p>}>{(p) => <p>due {p.amountDueCents}</p>}</TierUpgrade.Preview>
            <TierUpgrade.Confirm>Go</TierUpgrade.Confirm>
            <TierUpgrade.Result>{({ result }) => <p>done {result?.status}</p>}</TierUpgrade.Result>
          </TierUpgrade.Content>
        </TierUpgrade.Root>
      </TallyProvider>,
    );
    fireEvent.click(screen.getByText('Plans'));
    expect(await screen.findByText('due 1489')).toBeTruthy();
    expect(screen.getByRole('radio', { name: 'Starter' }).closest('label')?.getAttribute('data-disabled')).toBe('');
    expect(screen.getByRole('radio', { name: 'Pro' }).closest('label')?.getAttribute('data-state')).toBe('checked');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Go' }));
    });
    expect(await screen.findByText('done checkout')).toBeTruthy();
    expect(results).toEqual(['checkout']);
  });
});

describe('PricingTable', () => {
  it('lists the plans, marks the current one and opens the modal with the chosen plan', async () => {
    renderWithTally(<PricingTable />);
    const plans = await screen.findAllByRole('heading', { level: 3 });
    expect(plans.map((h) => h.textContent)).toEqual(['Trial', 'StarterCurrent plan', 'Professional', 'Enterprise']);
    expect(screen.getByText('Unlimited credits')).toBeTruthy();
    expect(screen.getByText('5% markup on paid models')).toBeTruthy();
    expect(screen.getByText('14-day free trial')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Switch to Starter' })).toBeNull();
    const choose = screen.getByRole('button', { name: 'Switch to Professional' });
    fireEvent.click(choose);
    const dialog = await screen.findByRole('dialog');
    expect((within(dialog).getByRole('radio', { name: /Professional/ }) as HTMLInputElement).checked).toBe(true);
    expect(await within(dialog).findByText('Due now')).toBeTruthy();
    fireEvent.keyDown(document.activeElement ?? dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(choose));
  });

  it('hands the plan to onSelectTier instead when given', async () => {
    const picked: string[] = [];
    renderWithTally(<PricingTable onSelectTier={(tier) => picked.push(tier.id)} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Switch to Enterprise' }));
    expect(picked).toEqual(['enterprise']);
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});
