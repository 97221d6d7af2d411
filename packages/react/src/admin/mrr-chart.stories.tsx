import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { dark, scenario } from '../testing/stories.js';
import { MrrChart } from './mrr-chart.js';

const meta = {
  title: 'Admin/Analytics/MrrChart',
  component: MrrChart,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `MRR at each bucket's end as a line over its movements as bars: new, expansion and reactivation up, contraction and churn down. MRR, ARR and the change over the range sit above; the table lists every movement, the net change and the growth per bucket.

\`\`\`tsx
import { MrrChart } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<MrrChart range={{ from, to, granularity: 'week' }} currency="USD" />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof MrrChart>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
export const Loading: Story = scenario('slow');
/** The API answers 500: the widget says so and offers a retry. */
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...dark };
