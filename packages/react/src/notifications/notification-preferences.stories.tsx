import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { NotificationPreferences } from './notification-preferences.js';

const meta = {
  title: 'Widgets/NotificationPreferences',
  component: NotificationPreferences,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `One checkbox per email category and a Save button; only the changed categories are sent. Required categories (a
failed payment) are shown on and disabled, with the reason. Rename or translate categories with \`labels\`.

\`\`\`tsx
<NotificationPreferences labels={{ low_balance: { label: 'Guthaben niedrig' } }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof NotificationPreferences>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = scenario('healthy');
export const Loading: Story = scenario('slow');
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...scenario('healthy'), ...dark };
export const Mobile: Story = { ...scenario('healthy'), ...mobile };
