import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, within } from 'storybook/test';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { UsageMeter } from './usage-meter.js';

const meta = {
  title: 'Widgets/UsageMeter',
  component: UsageMeter,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `How much of the period's credit allowance is used: a \`role="meter"\` bar with what is left and when it resets.
Low (under 10 % left), exhausted, unlimited, past-due, loading and error states are built in.

\`\`\`tsx
import { TallyProvider, UsageMeter } from '@tally/react';
import { createTallyClient } from '@tally/core/client';
import '@tally/react/styles.css';

const client = createTallyClient({ baseUrl: '/api' });

<TallyProvider client={client}>
  <UsageMeter />
</TallyProvider>
\`\`\`

Build your own from the unstyled parts (each takes \`asChild\`; \`data-state\` is \`normal | low | exhausted | unlimited\`):

\`\`\`tsx
<UsageMeter.Root used={usedMicros} limit={grantedMicros} valueText="12 of 20 credits used">
  <UsageMeter.Label asChild><h3>Credits</h3></UsageMeter.Label>
  <UsageMeter.Track className="track"><UsageMeter.Indicator className="fill" /></UsageMeter.Track>
</UsageMeter.Root>
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof UsageMeter>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Starter, about a fifth of the allowance used. */
export const Healthy: Story = {
  ...scenario('healthy'),
  play: async ({ canvasElement }) => {
    const meter = await within(canvasElement).findByRole('meter', { name: 'Credits this period' }, { timeout: 5_000 });
    await expect(meter).toHaveAttribute('data-state', 'normal');
  },
};
/** Under 10 % left: the bar and a note turn to the warning colour. */
export const LowBalance: Story = scenario('low-balance');
/** The renewal failed: last period's allowance expired and none was granted. */
export const PastDue: Story = scenario('past-due');
/** Enterprise: nothing to measure. */
export const Unlimited: Story = scenario('unlimited');
/** A trial that started two hours ago. */
export const NewCustomer: Story = scenario('new-customer');
/** No subscription and no allowance. */
export const NoAllowance: Story = scenario('empty-history');
export const Loading: Story = scenario('slow');
/** The API answers 500: the widget says so and offers a retry. */
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...scenario('low-balance'), ...dark };
export const Mobile: Story = { ...scenario('healthy'), ...mobile };

/** The unstyled parts composed by hand, with a heading as the label through `asChild`. */
export const Parts: Story = {
  ...scenario('healthy'),
  render: () => (
    <UsageMeter.Root used={17_500_000n} limit={20_000_000n} valueText="17.5 of 20 credits used" style={{ maxWidth: '24rem' }}>
      <UsageMeter.Label asChild>
        <h2 style={{ fontSize: '1rem', margin: '0 0 0.5rem' }}>Team credits</h2>
      </UsageMeter.Label>
      <UsageMeter.Track className="tally-usage-meter__track">
        <UsageMeter.Indicator className="tally-usage-meter__indicator" />
      </UsageMeter.Track>
    </UsageMeter.Root>
  ),
};
