import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { TransactionHistory } from './transaction-history.js';

const meta = {
  title: 'Widgets/TransactionHistory',
  component: TransactionHistory,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `The ledger entries, newest first: grants, metered calls (model and tokens), expiries, adjustments. Filter by kind,
page by cursor. A table on wide screens; in a container under 40rem each row becomes a card.

\`\`\`tsx
<TransactionHistory pageSize={10} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof TransactionHistory>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Healthy: Story = scenario('healthy');
/** A few entries per page, to show the pager. */
export const Paged: Story = { ...scenario('unlimited'), args: { pageSize: 4 } };
export const Empty: Story = scenario('empty-history');
export const NewCustomer: Story = scenario('new-customer');
export const Loading: Story = scenario('slow');
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...scenario('healthy'), ...dark };
/** Cards instead of a table. */
export const Mobile: Story = { ...scenario('healthy'), ...mobile };
