import type { Meta, StoryObj } from '@storybook/react-vite';
import { BuyCreditsDialog } from '../credit-packs/buy-credits-dialog.js';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { LowBalanceBanner } from './low-balance-banner.js';

const meta = {
  title: 'Widgets/LowBalanceBanner',
  component: LowBalanceBanner,
  tags: ['autodocs'],
  decorators: [withTally],
  args: { action: <BuyCreditsDialog /> },
  parameters: {
    docs: {
      description: {
        component: `The most pressing billing notice, or nothing: a failed payment (with a button to the payment portal), no credits
left, less than 10 % of the period's allowance left, or a provider key running low. Put it at the top of your app's layout.

\`\`\`tsx
import { BuyCreditsDialog, LowBalanceBanner } from '@tally/react';

<LowBalanceBanner action={<BuyCreditsDialog />} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof LowBalanceBanner>;

export default meta;
type Story = StoryObj<typeof meta>;

export const LowBalance: Story = scenario('low-balance');
/** Payment failed: the fix is one button away. */
export const PastDue: Story = scenario('past-due');
/** Enough credits: the banner renders nothing. */
export const Healthy: Story = scenario('healthy');
export const Dark: Story = { ...scenario('low-balance'), ...dark };
export const Mobile: Story = { ...scenario('past-due'), ...mobile };
