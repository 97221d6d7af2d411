import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { TallyProvider } from '../provider/provider.js';
import { createFakeClient, type FakeClient } from './fake-client.js';

/** Renders `ui` inside a TallyProvider over a fake client; `navigated` collects the URLs widgets open. */
export function renderWithTally(ui: ReactElement, client: FakeClient = createFakeClient()) {
  const navigated: string[] = [];
  const result = render(
    <TallyProvider client={client} navigate={(url) => navigated.push(url)} timeZone="UTC">
      {ui}
    </TallyProvider>,
  );
  return { ...result, client, navigated };
}
