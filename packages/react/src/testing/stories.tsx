import type { Decorator } from '@storybook/react-vite';
import { type ReactNode, useMemo } from 'react';
import { type StoryScenario, storyClient, tallyScenario } from '../../../../.storybook/tally-backend.js';
import { TallyProvider } from '../provider/provider.js';

/**
 * Story plumbing for the widgets: each story names a scenario of the story backend (the real HTTP
 * handler over a seeded memory store, served by msw), and `withTally` wraps it in a TallyProvider
 * whose client talks to that scenario. Not part of the package.
 */

declare global {
  interface Window {
    /** URLs the widgets asked to open (checkout, portal); stories never leave the page. */
    tallyNavigations?: string[];
  }
}

/** Records instead of navigating, so a story stays put and tests can read where it would have gone. */
function recordNavigation(url: string): void {
  window.tallyNavigations ??= [];
  window.tallyNavigations.push(url);
}

export function StoryTally({ scenario, children }: { scenario: StoryScenario; children: ReactNode }) {
  // One client per scenario: a new client would mean a new cache and a reload on every render.
  const client = useMemo(() => storyClient(scenario), [scenario]);
  return (
    <TallyProvider client={client} navigate={recordNavigation} timeZone="UTC">
      {children}
    </TallyProvider>
  );
}

/** Wraps every story of a file in a provider for the scenario its parameters name. */
export const withTally: Decorator = (Story, context) => {
  const scenario = (context.parameters.scenario ?? 'healthy') as StoryScenario;
  return (
    <StoryTally scenario={scenario}>
      <Story />
    </StoryTally>
  );
};

export interface ScenarioStory {
  parameters: { scenario: StoryScenario; msw: { handlers: ReturnType<typeof tallyScenario> } };
  tags?: string[];
}

/** A story's parameters for a scenario; the `slow` one is tagged `loading` (the browser tests judge it while busy). */
export function scenario(name: StoryScenario): ScenarioStory {
  return {
    parameters: { scenario: name, msw: { handlers: tallyScenario(name) } },
    ...(name === 'slow' ? { tags: ['loading'] } : {}),
  };
}

/** Shows the story in the dark theme. */
export const dark = { globals: { theme: 'dark' } };
/** Shows the story at 375 px. */
export const mobile = { globals: { viewport: { value: 'mobile', isRotated: false } } };
