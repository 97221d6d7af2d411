/**
 * Tally's colours, read from @tally/react's styles.css (the same file the portal serves as
 * tally.css) rather than copied, so the portal can't drift from the widgets. Scalar takes the CSS
 * variables directly; Redoc computes shades from its theme colours and needs the values themselves.
 */
import { TallyError } from '@tally/core';

export const PALETTE_KEYS = [
  'bg',
  'surface',
  'fg',
  'muted',
  'border',
  'accent',
  'accent-fg',
  'accent-soft',
  'positive',
  'warning',
  'negative',
] as const;
export type PaletteKey = (typeof PALETTE_KEYS)[number];

export interface Palette {
  font: string;
  light: Record<PaletteKey, string>;
  dark: Record<PaletteKey, string>;
}

/** The declarations of the first top-level rule whose selector list is exactly `selector`. */
function block(css: string, selector: RegExp): string {
  const match = selector.exec(css);
  if (!match) throw new TallyError('VALIDATION', `styles.css: no rule for ${selector.source}`);
  const start = match.index + match[0].length;
  const end = css.indexOf('}', start);
  return css.slice(start, end);
}

function colors(declarations: string, fallback?: Record<PaletteKey, string>): Record<PaletteKey, string> {
  const out = {} as Record<PaletteKey, string>;
  for (const key of PALETTE_KEYS) {
    const value = new RegExp(`--tally-color-${key}:\\s*([^;]+);`).exec(declarations)?.[1]?.trim() ?? fallback?.[key];
    if (value === undefined) throw new TallyError('VALIDATION', `styles.css: --tally-color-${key} is missing`);
    out[key] = value;
  }
  return out;
}

export function parsePalette(css: string): Palette {
  const light = block(css, /(?:^|\n)\s*:root,\s*\[data-theme="light"\]\s*\{/);
  const dark = block(css, /(?:^|\n)\[data-theme="dark"\]\s*\{/);
  const font = /--tally-font:\s*([^;]+);/.exec(light)?.[1]?.trim();
  if (!font) throw new TallyError('VALIDATION', 'styles.css: --tally-font is missing');
  const lightColors = colors(light);
  return { font, light: lightColors, dark: colors(dark, lightColors) };
}

const CODE_FONT = 'ui-monospace, "SFMono-Regular", "SF Mono", Menlo, Consolas, "Liberation Mono", monospace';

/** Redoc's theme option in Tally's colours; the right-hand code panel stays dark in both, as Redoc's does. */
export function redocTheme(palette: Palette, mode: 'light' | 'dark'): Record<string, unknown> {
  const c = palette[mode];
  const panel = palette.dark;
  return {
    colors: {
      primary: { main: c.accent },
      success: { main: c.positive },
      warning: { main: c.warning },
      error: { main: c.negative },
      text: { primary: c.fg, secondary: c.muted },
      border: { dark: c.border, light: c.border },
      http: {
        get: c.positive,
        post: c.accent,
        put: c.warning,
        patch: c.warning,
        delete: c.negative,
        options: c.muted,
        head: c.muted,
        basic: c.muted,
        link: c.accent,
      },
    },
    schema: {
      linesColor: c.border,
      typeNameColor: c.muted,
      typeTitleColor: c.fg,
      requireLabelColor: c.negative,
      nestedBackground: c.surface,
    },
    typography: {
      fontFamily: palette.font,
      headings: { fontFamily: palette.font, fontWeight: '650' },
      code: { fontFamily: CODE_FONT, color: c.negative, backgroundColor: c.surface },
      links: { color: c.accent, visited: c.accent, hover: c.accent },
    },
    sidebar: { backgroundColor: c.surface, textColor: c.fg, activeTextColor: c.accent },
    rightPanel: { backgroundColor: panel.surface, textColor: panel.fg },
    codeBlock: { backgroundColor: panel.bg },
  };
}
