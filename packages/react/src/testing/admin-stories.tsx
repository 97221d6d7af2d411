import type { Decorator } from '@storybook/react-vite';
import { type ReactNode, useMemo } from 'react';
import { expect, userEvent, within } from 'storybook/test';
import { STORY_ANALYTICS, STORY_NOW, type StoryScenario, storyAdminClient } from '../../../../.storybook/tally-backend.js';
import type { AnalyticsRange } from '../admin/range.js';
import { TallyProvider } from '../provider/provider.js';

/**
 * Story plumbing for the admin analytics widgets: like `withTally`, but the provider's client signs
 * in as the stories' operator (the `admin` role), and the default scenario is `analytics`. Not part
 * of the package.
 */
export const withAdminTally: Decorator = (Story, context) => {
  const scenario = (context.parameters.scenario ?? 'analytics') as StoryScenario;
  return (
    <AdminTally scenario={scenario}>
      <Story />
    </AdminTally>
  );
};

function AdminTally({ scenario, children }: { scenario: StoryScenario; children: ReactNode }) {
  // One client per scenario: a new client would mean a new cache and a reload on every render.
  const client = useMemo(() => storyAdminClient(scenario), [scenario]);
  return (
    <TallyProvider client={client} timeZone="UTC">
      {children}
    </TallyProvider>
  );
}

const DAY_MS = 86_400_000;
const storyDayEnd = Date.parse(STORY_NOW.slice(0, 10)) + DAY_MS;

/** "Today" for the admin stories (the range presets end with it). */
export const STORY_TODAY = new Date(STORY_NOW);

/** The whole of the analytics scenario's data (its 90 days and today), by week. */
export const STORY_RANGE: AnalyticsRange = {
  from: new Date(storyDayEnd - (STORY_ANALYTICS.days + 1) * DAY_MS),
  to: new Date(storyDayEnd),
  granularity: 'week',
};

/** A month before the analytics scenario's first customer: every metric is empty. */
export const STORY_EMPTY_RANGE: AnalyticsRange = {
  from: new Date('2026-01-01T00:00:00.000Z'),
  to: new Date('2026-02-01T00:00:00.000Z'),
  granularity: 'week',
};

/**
 * The `Table` story of a chart widget: the toggle (`aria-pressed`) switches to the same numbers as a
 * table, shown in its own scroll box that the keyboard reaches.
 */
export const tableViewStory = {
  play: async ({ canvasElement }: { canvasElement: HTMLElement }) => {
    const canvas = within(canvasElement);
    const toggle = await canvas.findByRole('button', { name: /^Table view of/ }, { timeout: 15_000 });
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(toggle);
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    const table = await canvas.findByRole('table');
    await expect(table).toBeVisible();
    await expect(table.closest('section')).toHaveAttribute('tabindex', '0');
  },
};
