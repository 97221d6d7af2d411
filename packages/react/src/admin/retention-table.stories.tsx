import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_RANGE, withAdminTally } from '../testing/admin-stories.js';
import { scenario } from '../testing/stories.js';
import { RetentionTable } from './retention-table.js';

const meta = {
  title: 'Admin/Analytics/RetentionTable',
  component: RetentionTable,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Cohorts by the bucket their customers first paid in, and the share still paying at the end of each later bucket, shaded. A table already, so there is no chart view; on a phone it scrolls inside its own box.

\`\`\`tsx
import { RetentionTable } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<RetentionTable range={{ from, to, granularity: 'week' }} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof RetentionTable>;

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
