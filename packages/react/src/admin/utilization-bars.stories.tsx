import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_RANGE, withAdminTally } from '../testing/admin-stories.js';
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
