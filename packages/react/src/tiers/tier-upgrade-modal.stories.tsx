import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { TierUpgradeModal } from './tier-upgrade-modal.js';

const meta = {
  title: 'Widgets/TierUpgradeModal',
  component: TierUpgradeModal,
  tags: ['autodocs'],
  decorators: [withTally],
  // Open stories open in the canvas only: on the docs page every story renders at once.
  render: (args, { viewMode }) => <TierUpgradeModal {...args} defaultOpen={args.defaultOpen && viewMode !== 'docs'} />,
  parameters: {
    docs: {
      description: {
        component: `Pick a tier, read exactly what changes now — the proration lines, the amount due, the credits granted and when it
takes effect (the API's own preview, the same one that drives the charge) — and confirm. An upgrade goes to checkout (or is
charged to the card on file); a downgrade is scheduled for the period end. Keyboard: arrow keys pick a tier, Tab reaches
Confirm, Escape closes and focus returns to the trigger.

\`\`\`tsx
import { TallyProvider, TierUpgradeModal } from '@tally/react';

<TallyProvider client={client} navigate={(url) => router.push(url)}>
  <TierUpgradeModal />
</TallyProvider>
\`\`\`

Controlled, with your own trigger, or from the parts:

\`\`\`tsx
<TierUpgradeModal open={open} onOpenChange={setOpen} defaultTier="professional" trigger={<MyButton>Upgrade</MyButton>} />

<TierUpgrade.Root current={tiers.current}>
  <TierUpgrade.Trigger asChild><a href="#plans">Plans</a></TierUpgrade.Trigger>
  <TierUpgrade.Content>
    <TierUpgrade.Title>Plans</TierUpgrade.Title>
    <TierUpgrade.TierList legend="Plans">{tiers.map((t) => <TierUpgrade.TierOption key={t.id} value={t.id}>{t.name}</TierUpgrade.TierOption>)}</TierUpgrade.TierList>
    <TierUpgrade.Preview>{(preview) => <Lines preview={preview} />}</TierUpgrade.Preview>
    <TierUpgrade.Confirm>Confirm</TierUpgrade.Confirm>
    <TierUpgrade.Result>{({ result, error }) => <Outcome result={result} error={error} />}</TierUpgrade.Result>
  </TierUpgrade.Content>
</TierUpgrade.Root>
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof TierUpgradeModal>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Closed: the trigger only. */
export const Default: Story = scenario('healthy');
/** Open, nothing picked yet. */
export const Open: Story = { ...scenario('healthy'), args: { defaultOpen: true } };
/** Starter → Professional: the proration lines, the amount due now and the credits granted. */
export const UpgradePreview: Story = {
  ...scenario('healthy'),
  args: { defaultOpen: true, defaultTier: 'professional' },
  play: async () => {
    const dialog = within(document.body).getByRole('dialog');
    await expect(await within(dialog).findByRole('list', { name: 'Proration lines' }, { timeout: 5_000 })).toBeInTheDocument();
  },
};
/** Starter → Trial: scheduled for the period end, nothing charged now. */
export const DowngradePreview: Story = { ...scenario('healthy'), args: { defaultOpen: true, defaultTier: 'trial' } };
/** Confirmed upgrade: the outcome takes focus and links to checkout. */
export const Confirmed: Story = {
  ...scenario('healthy'),
  args: { defaultOpen: true, defaultTier: 'professional' },
  play: async () => {
    const dialog = within(document.body).getByRole('dialog');
    await userEvent.click(await within(dialog).findByRole('button', { name: /^Upgrade/ }, { timeout: 5_000 }));
    await expect(await within(dialog).findByRole('button', { name: 'Done' }, { timeout: 5_000 })).toBeInTheDocument();
  },
};
/** A failed renewal: the customer is told to fix the card first. */
export const PastDue: Story = { ...scenario('past-due'), args: { defaultOpen: true, defaultTier: 'professional' } };
/** Enterprise (unlimited) looking at a downgrade. */
export const Unlimited: Story = { ...scenario('unlimited'), args: { defaultOpen: true, defaultTier: 'professional' } };
/** A trial customer upgrading. */
export const NewCustomer: Story = { ...scenario('new-customer'), args: { defaultOpen: true, defaultTier: 'starter' } };
export const Loading: Story = { ...scenario('slow'), args: { defaultOpen: true } };
export const ServerError: Story = { ...scenario('server-error'), args: { defaultOpen: true } };
export const Dark: Story = { ...scenario('healthy'), ...dark, args: { defaultOpen: true, defaultTier: 'professional' } };
export const Mobile: Story = { ...scenario('healthy'), ...mobile, args: { defaultOpen: true, defaultTier: 'professional' } };
