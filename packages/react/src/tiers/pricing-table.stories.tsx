import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { PricingTable } from './pricing-table.js';

const meta = {
  title: 'Widgets/PricingTable',
  component: PricingTable,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `The catalog's plans side by side (stacked on narrow screens) with price, allowance, markup and trial; the current plan
is marked. A plan's button opens TierUpgradeModal with that plan picked, so the customer sees the price of the switch before
paying. Pass \`onSelectTier\` to handle the choice yourself.

\`\`\`tsx
<PricingTable />
<PricingTable onSelectTier={(tier) => router.push(\`/checkout?tier=\${tier.id}\`)} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof PricingTable>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Healthy: Story = scenario('healthy');
export const NewCustomer: Story = scenario('new-customer');
export const Unlimited: Story = scenario('unlimited');
export const Loading: Story = scenario('slow');
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...scenario('healthy'), ...dark };
export const Mobile: Story = { ...scenario('healthy'), ...mobile };
