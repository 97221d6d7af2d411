import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';

/**
 * Light or dark. By default the page follows the system (no `data-theme` on <html>, so the
 * `--tally-*` variables follow `prefers-color-scheme`); the toggle stores an explicit choice in
 * localStorage and sets `data-theme`. The inline script in index.html applies a stored choice before
 * the first paint, under the same key, so a dark page never flashes light.
 */

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

export const THEME_STORAGE_KEY = 'tally-dashboard-theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export function readThemeChoice(storage: Pick<Storage, 'getItem'> | null = safeStorage()): ThemeChoice {
  try {
    const stored = storage?.getItem(THEME_STORAGE_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    // Storage can be switched off (private modes, policies): the theme then lasts for the page only.
    return null;
  }
}

/** Sets (or, for `system`, removes) `data-theme` on <html> and remembers the choice. */
export function applyThemeChoice(choice: ThemeChoice, root: HTMLElement = document.documentElement): void {
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
  const storage = safeStorage();
  try {
    if (choice === 'system') storage?.removeItem(THEME_STORAGE_KEY);
    else storage?.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not remembered, still applied.
  }
}

function subscribeSystem(listener: () => void): () => void {
  if (typeof window.matchMedia !== 'function') return () => {};
  const query = window.matchMedia(DARK_QUERY);
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}

function systemTheme(): Theme {
  return typeof window.matchMedia === 'function' && window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

export function useTheme(): { choice: ThemeChoice; theme: Theme; setChoice: (choice: ThemeChoice) => void } {
  const [choice, setChoiceState] = useState<ThemeChoice>(() => readThemeChoice());
  const system = useSyncExternalStore(subscribeSystem, systemTheme, () => 'light' as Theme);
  // Another tab changed the theme: follow it.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key !== THEME_STORAGE_KEY) return;
      const next = readThemeChoice();
      setChoiceState(next);
      if (next === 'system') document.documentElement.removeAttribute('data-theme');
      else document.documentElement.setAttribute('data-theme', next);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  const setChoice = useCallback((next: ThemeChoice) => {
    applyThemeChoice(next);
    setChoiceState(next);
  }, []);
  return { choice, theme: choice === 'system' ? system : choice, setChoice };
}

function SunIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="4.5" fill="none" stroke="currentColor" strokeWidth="2" />
      <path
        d="M12 2v2.5M12 19.5V22M2 12h2.5M19.5 12H22M4.9 4.9l1.8 1.8M17.3 17.3l1.8 1.8M4.9 19.1l1.8-1.8M17.3 6.7l1.8-1.8"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
      />
    </svg>
  );
}

function MoonIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5Z"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinejoin="round"
      />
    </svg>
  );
}

/**
 * A switch between light and dark: pressed means dark. The first press stores a choice; until then
 * the page follows the system, and the button shows which theme that is.
 */
export function ThemeToggle() {
  const { theme, choice, setChoice } = useTheme();
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      className="dash-icon-button"
      aria-pressed={dark}
      title={choice === 'system' ? 'Dark mode (following the system)' : 'Dark mode'}
      onClick={() => setChoice(dark ? 'light' : 'dark')}
    >
      {dark ? <MoonIcon /> : <SunIcon />}
      <span className="dash-visually-hidden">Dark mode</span>
    </button>
  );
}
