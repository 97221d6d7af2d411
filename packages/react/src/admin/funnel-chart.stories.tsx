import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { FunnelChart } from './funnel-chart.js';

const meta = {
  title: 'Admin/Analytics/FunnelChart',
  component: FunnelChart,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Of the customers created in the range, how many reached each tier (in catalog order) by its end, with the conversion from the step before.

\`\`\`tsx
import { FunnelChart } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<FunnelChart range={{ from, to, granularity: 'day' }} tierNames={{ trial: 'Trial', starter: 'Starter' }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof FunnelChart>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
