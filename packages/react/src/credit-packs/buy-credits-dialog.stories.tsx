import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { BuyCreditsDialog } from './buy-credits-dialog.js';

const meta = {
  title: 'Widgets/BuyCreditsDialog',
  component: BuyCreditsDialog,
  tags: ['autodocs'],
  decorators: [withTally],
  render: (args, { viewMode }) => <BuyCreditsDialog {...args} defaultOpen={args.defaultOpen && viewMode !== 'docs'} />,
  parameters: {
    docs: {
      description: {
        component: `Credit packs to buy once through checkout, and the auto-recharge settings (top up with a pack when the balance
falls below a threshold, at most N times a month). Thresholds are typed in credits and sent as exact micros.

\`\`\`tsx
<BuyCreditsDialog />
<BuyCreditsDialog trigger={<a href="#buy">Add credits</a>} showAutoRecharge={false} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof BuyCreditsDialog>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = scenario('healthy');
/** Auto-recharge is on in this scenario. */
export const Open: Story = { ...scenario('healthy'), args: { defaultOpen: true } };
/** Auto-recharge never set. */
export const OpenLowBalance: Story = { ...scenario('low-balance'), args: { defaultOpen: true } };
export const Loading: Story = { ...scenario('slow'), args: { defaultOpen: true } };
export const ServerError: Story = { ...scenario('server-error'), args: { defaultOpen: true } };
export const Dark: Story = { ...scenario('healthy'), ...dark, args: { defaultOpen: true } };
export const Mobile: Story = { ...scenario('healthy'), ...mobile, args: { defaultOpen: true } };
