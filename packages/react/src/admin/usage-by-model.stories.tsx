import type { Meta, StoryObj } from '@storybook/react-vite';
import { STORY_EMPTY_RANGE, STORY_RANGE, tableViewStory, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { UsageByModel } from './usage-by-model.js';

const meta = {
  title: 'Admin/Analytics/UsageByModel',
  component: UsageByModel,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Calls per model, busiest first; the table adds tokens, provider cost and the credits charged.

\`\`\`tsx
import { UsageByModel } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<UsageByModel range={{ from, to, granularity: 'day' }} limit={8} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof UsageByModel>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {};

/** The same numbers as a table: the toggle (`aria-pressed`) switches the view. */
export const Table: Story = tableViewStory;

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
