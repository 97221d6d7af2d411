import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_RANGE, withAdminTally } from '../testing/admin-stories.js';
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
export const Table: Story = {
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const toggle = await canvas.findByRole('button', { name: /^Table view of/ }, { timeout: 15_000 });
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(toggle);
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    // The table on screen, in its own scroll box (reachable by keyboard).
    const table = await canvas.findByRole('table');
    await expect(table).toBeVisible();
    await expect(table.closest('section')).toHaveAttribute('tabindex', '0');
  },
};

/** A month before the first customer: nothing to show, said plainly. */
export const Empty: Story = { args: { range: STORY_EMPTY_RANGE } };
