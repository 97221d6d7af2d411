import type { Decorator, Preview } from '@storybook/react-vite';
import { setupWorker } from 'msw/browser';
import { mswLoader } from 'msw-storybook-addon/csf3';
import '@tally/react/styles.css';
import { resetStoryBackends } from './tally-backend.js';

type Theme = 'light' | 'dark';

/**
 * Starts msw's service worker once. A request to the Tally API (`/v1/…`) that no story handler answers
 * is logged as an `[MSW]` error (the browser tests fail the story on it), so a story can't quietly show
 * a failure it didn't ask for; everything else (Storybook's own modules, fonts, assets) passes through
 * silently. msw 3 reads `onUnhandledFrame`; the old `onUnhandledRequest` name is silently ignored.
 */
async function startWorker() {
  const worker = setupWorker();
  await worker.start({
    quiet: true,
    onUnhandledFrame({ frame, defaults }) {
      if (frame.protocol !== 'http') return;
      const { pathname } = new URL((frame.data as { request: Request }).request.url);
      if (pathname.includes('/v1/')) defaults.error();
    },
  });
  return worker;
}

/**
 * Sets `data-theme` on the story wrapper so the --tally-* variables switch. In the canvas it also sets it
 * on <html> (with the page background), because dialogs render in a portal outside the wrapper; docs pages
 * show stories of both themes side by side, so there only the wrapper changes.
 */
const withTheme: Decorator = (Story, context) => {
  const theme: Theme = context.globals.theme === 'dark' ? 'dark' : 'light';
  const docs = context.viewMode === 'docs';
  if (!docs && typeof document !== 'undefined') {
    const html = document.documentElement;
    html.dataset.theme = theme;
    html.style.colorScheme = theme;
    html.style.background = 'var(--tally-color-bg)';
  }
  return (
    <div
      data-theme={theme}
      style={{
        background: 'var(--tally-color-bg)',
        color: 'var(--tally-color-fg)',
        colorScheme: theme,
        fontFamily: 'var(--tally-font)',
        padding: '1rem',
        boxSizing: 'border-box',
        // Fill the canvas so the dark background isn't a strip; docs pages stay content-sized.
        minHeight: docs ? undefined : '100vh',
      }}
    >
      <Story />
    </div>
  );
};

const preview: Preview = {
  decorators: [withTheme],
  loaders: [mswLoader(startWorker)],
  // Each story in the canvas starts from its scenario's freshly seeded data, whatever an earlier story
  // changed. Not on docs pages: their stories render together and share the backends.
  beforeEach(context) {
    if (context.viewMode !== 'docs') resetStoryBackends();
  },
  globalTypes: {
    theme: {
      description: 'Tally theme (sets data-theme on the story wrapper and, in the canvas, on <html>)',
      toolbar: {
        title: 'Theme',
        icon: 'contrast',
        items: [
          { value: 'light', title: 'Light', icon: 'sun' },
          { value: 'dark', title: 'Dark', icon: 'moon' },
        ],
        dynamicTitle: true,
      },
    },
  },
  initialGlobals: { theme: 'light' },
  parameters: {
    layout: 'fullscreen',
    viewport: {
      options: {
        mobile: { name: 'Mobile (375px)', styles: { width: '375px', height: '667px' }, type: 'mobile' },
        desktop: { name: 'Desktop (1280px)', styles: { width: '1280px', height: '800px' }, type: 'desktop' },
      },
    },
    a11y: { test: 'error' },
  },
};

export default preview;
