import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { CreditBalance } from './credit-balance.js';

const meta = {
  title: 'Widgets/CreditBalance',
  component: CreditBalance,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `The credits the customer can spend now, the plan and its status, where the credits come from (allowance, purchased,
coupons, adjustments), what is held for calls in progress, any debt, and what is left on their own provider keys.

\`\`\`tsx
import { CreditBalance, TallyProvider } from '@tally/react';

<TallyProvider client={client}>
  <CreditBalance />
</TallyProvider>
\`\`\`

The data comes from \`useMe()\`, shared with UsageMeter and LowBalanceBanner (one request for all three).`,
      },
    },
  },
} satisfies Meta<typeof CreditBalance>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Allowance, a purchased pack, a coupon and an OpenRouter key of the customer's own. */
export const Healthy: Story = scenario('healthy');
export const LowBalance: Story = scenario('low-balance');
export const PastDue: Story = scenario('past-due');
export const Unlimited: Story = scenario('unlimited');
export const NewCustomer: Story = scenario('new-customer');
/** No credits at all. */
export const Empty: Story = scenario('empty-history');
export const Loading: Story = scenario('slow');
export const ServerError: Story = scenario('server-error');
/** Only the total, without the breakdown. */
export const Compact: Story = { ...scenario('healthy'), args: { showBreakdown: false, title: 'Credits' } };
export const Dark: Story = { ...scenario('healthy'), ...dark };
export const Mobile: Story = { ...scenario('past-due'), ...mobile };
