import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorybookConfig } from '@storybook/react-vite';
import type { Alias, Plugin, UserConfig } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * Maps every export of a workspace package to its source file, so stories run against the code being
 * edited (no build first, and hot reload works). An export `./dist/x/index.js` (or `./dist/x.js`) is
 * looked up as `src/x/index.ts(x)` or `src/x.ts(x)`; CSS as `src/x.css`. Exports without a source file
 * are left to normal resolution (the package's dist).
 */
function sourceAliases(packageDir: string): Alias[] {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { default?: string }>;
  };
  const aliases: Alias[] = [];
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const file = typeof target === 'string' ? target : target.default;
    if (!file?.startsWith('./dist/')) continue;
    const stem = join(packageDir, 'src', file.slice('./dist/'.length).replace(/\.(js|css)$/, ''));
    const candidates = file.endsWith('.css')
      ? [`${stem}.css`]
      : [`${stem}.ts`, `${stem}.tsx`, join(stem, 'index.ts'), join(stem, 'index.tsx')];
    const source = candidates.find((candidate) => existsSync(candidate));
    if (!source) continue;
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    // Exact matches only: `@tally/core` must not swallow `@tally/core/http`.
    aliases.push({ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: source });
  }
  return aliases;
}

/**
 * Serves msw's service worker at `/mockServiceWorker.js` in `storybook dev` and writes it into the static
 * build, always from the installed msw package: no generated copy is committed, so the worker can never
 * drift from the msw version (msw refuses a worker whose integrity checksum doesn't match).
 */
function mswServiceWorker(): Plugin {
  const source = require.resolve('msw/mockServiceWorker.js');
  return {
    name: 'tally:msw-service-worker',
    configureServer(server) {
      server.middlewares.use('/mockServiceWorker.js', (_request, response) => {
        response.setHeader('content-type', 'text/javascript; charset=utf-8');
        response.setHeader('cache-control', 'no-store');
        response.end(readFileSync(source));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'mockServiceWorker.js', source: readFileSync(source, 'utf8') });
    },
  };
}

const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['./introduction.mdx', '../packages/react/src/**/*.mdx', '../packages/react/src/**/*.stories.tsx'],
  addons: ['@storybook/addon-a11y', '@storybook/addon-docs'],
  // Telemetry calls home; on a closed network every call waits for its timeout (a build takes 13 s instead of 5 s).
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  async viteFinal(viteConfig) {
    const { mergeConfig } = await import('vite');
    const overrides: UserConfig = {
      plugins: [mswServiceWorker()],
      resolve: { alias: [...sourceAliases(join(root, 'packages/core')), ...sourceAliases(join(root, 'packages/react'))] },
      build: {
        // Storybook's preview is one large bundle by design; the size warning tells nothing here.
        chunkSizeWarningLimit: 4096,
        rolldownOptions: {
          onwarn(warning, warn) {
            // Radix marks its modules "use client" for React Server Components; a browser bundle has no use for it.
            if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
            warn(warning);
          },
        },
      },
    };
    return mergeConfig(viteConfig, overrides);
  },
};

export default config;
