import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_RANGE, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { TopCustomersTable } from './top-customers-table.js';

const meta = {
  title: 'Admin/Analytics/TopCustomersTable',
  component: TopCustomersTable,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `The customers charged the most credits in the range, with their calls and what those cost the providers.

\`\`\`tsx
import { TopCustomersTable } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<TopCustomersTable range={{ from, to, granularity: 'day' }} limit={10} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof TopCustomersTable>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {
  play: async ({ canvasElement }) => {
    const table = await within(canvasElement).findByRole('table', {}, { timeout: 15_000 });
    await expect(table.querySelectorAll('tbody tr').length).toBeGreaterThan(0);
  },
};

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
