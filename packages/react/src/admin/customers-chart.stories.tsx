import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { CustomersChart } from './customers-chart.js';

const meta = {
  title: 'Admin/Analytics/CustomersChart',
  component: CustomersChart,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Sign-ups per bucket as bars, customers who made a call as a line, and the running total on its own axis.

\`\`\`tsx
import { CustomersChart } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<CustomersChart range={{ from, to, granularity: 'week' }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof CustomersChart>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
