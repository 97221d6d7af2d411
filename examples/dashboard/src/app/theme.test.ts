// @vitest-environment happy-dom
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyThemeChoice, readThemeChoice, THEME_STORAGE_KEY, ThemeToggle } from './theme.tsx';

afterEach(cleanup);
beforeEach(() => {
  window.localStorage.clear();
  document.documentElement.removeAttribute('data-theme');
});

describe('theme', () => {
  it('follows the system until a choice is made', () => {
    expect(readThemeChoice()).toBe('system');
    render(createElement(ThemeToggle));
    const toggle = screen.getByRole('button', { name: 'Dark mode' });
    // happy-dom's system preference is light.
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);
  });

  it('toggles dark and light, and remembers the choice', () => {
    render(createElement(ThemeToggle));
    const toggle = screen.getByRole('button', { name: 'Dark mode' });
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark');
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBe('dark');

    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(document.documentElement.getAttribute('data-theme')).toBe('light');
    expect(readThemeChoice()).toBe('light');
  });

  it('starts from a remembered choice', () => {
    applyThemeChoice('dark');
    render(createElement(ThemeToggle));
    expect(screen.getByRole('button', { name: 'Dark mode' }).getAttribute('aria-pressed')).toBe('true');
    applyThemeChoice('system');
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);
  });

  it("index.html's inline script applies the remembered choice before the app loads", () => {
    const html = readFileSync(join(import.meta.dirname, 'index.html'), 'utf8');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    const run = new Function(script as string);

    run();
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);

    window.localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    run();
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark');

    window.localStorage.setItem(THEME_STORAGE_KEY, 'nonsense');
    document.documentElement.removeAttribute('data-theme');
    run();
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);
  });
});
