import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { UtilizationBars } from './utilization-bars.js';

const meta = {
  title: 'Admin/Analytics/UtilizationBars',
  component: UtilizationBars,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `How much of the allowance granted in the range each tier's customers used, let expire or still have.

\`\`\`tsx
import { UtilizationBars } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<UtilizationBars range={{ from, to, granularity: 'day' }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof UtilizationBars>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
