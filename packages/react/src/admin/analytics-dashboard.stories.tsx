import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, within } from 'storybook/test';
import { STORY_EMPTY_RANGE, STORY_TODAY, withAdminTally } from '../testing/admin-stories.js';
import { dark, scenario } from '../testing/stories.js';
import { AnalyticsDashboard } from './analytics-dashboard.js';
import { lastDays } from './range.js';

const meta = {
  title: 'Admin/Analytics/AnalyticsDashboard',
  component: AnalyticsDashboard,
  tags: ['autodocs'],
  decorators: [withAdminTally],
  args: { defaultRange: lastDays(90, STORY_TODAY, 'week'), now: STORY_TODAY },
  parameters: {
    ...scenario('analytics').parameters,
    docs: {
      description: {
        component: `Every admin analytics widget in a responsive grid under one range picker (a preset ending today or dates of
your own, by day, week or month; all UTC). Each chart has a "Table" toggle (\`aria-pressed\`) showing the same numbers
as an accessible table, which screen readers get either way. Every amount is exact: bigints from the API's strings.

\`\`\`tsx
import { createTallyClient } from '@tally/core/client';
import { TallyProvider } from '@tally/react';
import { AnalyticsDashboard } from '@tally/react/admin';
import '@tally/react/styles.css';

// The token must carry the admin role (createTallyHandler's authenticate).
const client = createTallyClient({ baseUrl: '/api', headers: () => ({ authorization: \`Bearer \${operatorToken()}\` }) });

<TallyProvider client={client}>
  <AnalyticsDashboard currency="USD" tierNames={{ trial: 'Trial', starter: 'Starter', professional: 'Pro', enterprise: 'Enterprise' }} />
</TallyProvider>
\`\`\`

Needs \`recharts\` (an optional peer dependency of \`@tally/react\`; the main entry never loads it).`,
      },
    },
  },
} satisfies Meta<typeof AnalyticsDashboard>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The analytics scenario: 60 sample customers over 90 days, by week. */
export const Default: Story = {
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await expect(await canvas.findByRole('heading', { name: 'Analytics' })).toBeVisible();
    await expect(canvas.getByRole('combobox', { name: 'Range' })).toHaveValue('90d');
    await expect(canvas.getByRole('combobox', { name: 'Group by' })).toHaveValue('week');
  },
};
/** A month before the first customer: every widget says it has nothing to show. */
export const Empty: Story = { args: { defaultRange: STORY_EMPTY_RANGE } };
export const Loading: Story = scenario('slow');
/** The API answers 500: each widget says so and offers a retry. */
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...dark };
