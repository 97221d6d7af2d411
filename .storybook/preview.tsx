import type { Decorator, Preview } from '@storybook/react-vite';
import '../packages/react/src/styles.css';

type Theme = 'light' | 'dark';

/** Sets `data-theme` on a wrapper so the --tally-* variables switch, and paints the wrapper with the theme background. */
const withTheme: Decorator = (Story, context) => {
  const theme: Theme = context.globals.theme === 'dark' ? 'dark' : 'light';
  return (
    <div
      data-theme={theme}
      style={{
        background: 'var(--tally-color-bg)',
        color: 'var(--tally-color-fg)',
        fontFamily: 'var(--tally-font)',
        padding: '1rem',
        boxSizing: 'border-box',
        // Fill the canvas so the dark background isn't a strip; docs pages stay content-sized.
        minHeight: context.viewMode === 'docs' ? undefined : '100vh',
      }}
    >
      <Story />
    </div>
  );
};

const preview: Preview = {
  decorators: [withTheme],
  globalTypes: {
    theme: {
      description: 'Tally theme (sets data-theme on the story wrapper)',
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
  },
};

export default preview;
