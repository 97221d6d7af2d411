import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { ChurnChart } from './churn-chart.js';

const meta = {
  title: 'Admin/Analytics/ChurnChart',
  component: ChurnChart,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Logo churn (paying customers lost) and gross revenue churn (churned and contracted MRR) per bucket, as percentages; a bucket that began with nobody paying has no rate and leaves a gap.

\`\`\`tsx
import { ChurnChart } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<ChurnChart range={{ from, to, granularity: 'month' }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof ChurnChart>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
