import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_RANGE, withAdminTally } from '../testing/admin-stories.js';
import { dark, scenario } from '../testing/stories.js';
import { MarginTable } from './margin-table.js';

const meta = {
  title: 'Admin/Analytics/MarginTable',
  component: MarginTable,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { range: STORY_RANGE },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Revenue of the credits calls charged against what they cost the platform (BYOK calls cost it nothing), by model, tier or customer, with the margin and its share of revenue and the total at the foot.

\`\`\`tsx
import { MarginTable } from '@tally/react/admin';
import '@tally/react/styles.css';

// Inside a TallyProvider whose client is an operator's (client.admin.analytics.metric).
<MarginTable range={{ from, to, granularity: 'day' }} defaultGroupBy="tier" />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof MarginTable>;

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
export const Loading: Story = scenario('slow');
/** The API answers 500: the widget says so and offers a retry. */
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...dark };
/** Grouped by the customer's tier at each call. */
export const ByTier: Story = { args: { defaultGroupBy: 'tier' } };
