// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CUSTOMER_NAV, Shell } from './shell/shell.tsx';

afterEach(cleanup);
beforeEach(() => window.history.replaceState(null, '', '/app/account'));

function renderShell() {
  let signedOut = 0;
  const view = render(
    createElement(
      Shell,
      {
        principal: { customerId: 'cus_ada', roles: [] },
        nav: CUSTOMER_NAV,
        navLabel: 'Customer pages',
        onSignOut: () => {
          signedOut += 1;
        },
      },
      createElement('h1', null, 'Account'),
    ),
  );
  return { ...view, signedOut: () => signedOut };
}

describe('shell', () => {
  it('has the landmarks, the principal, and marks the current page', () => {
    const { signedOut } = renderShell();
    expect(screen.getByRole('banner')).toBeTruthy();
    expect(screen.getByRole('main')).toBeTruthy();
    const nav = screen.getByRole('navigation', { name: 'Customer pages' });
    expect(nav.querySelectorAll('a')).toHaveLength(CUSTOMER_NAV.length);
    expect(screen.getByRole('link', { name: 'Account' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('link', { name: 'Plan' }).getAttribute('aria-current')).toBeNull();
    expect(screen.getByText('cus_ada')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(signedOut()).toBe(1);
  });

  it('opens the mobile menu, moves focus into it, and Escape closes it and returns focus', () => {
    renderShell();
    const button = screen.getByRole('button', { name: 'Menu' });
    const nav = screen.getByRole('navigation', { name: 'Customer pages' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(button.getAttribute('aria-controls')).toBe(nav.id);
    expect(nav.getAttribute('data-open')).toBe('false');

    fireEvent.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(nav.getAttribute('data-open')).toBe('true');
    expect(document.activeElement).toBe(screen.getByRole('link', { name: 'Account' }));

    fireEvent.keyDown(document, { key: 'Escape' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(nav.getAttribute('data-open')).toBe('false');
    expect(document.activeElement).toBe(button);
  });

  it('closes the menu when a page is picked, and navigates without reloading', () => {
    renderShell();
    const button = screen.getByRole('button', { name: 'Menu' });
    fireEvent.click(button);
    fireEvent.click(screen.getByRole('link', { name: 'Playground' }));
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(window.location.pathname).toBe('/app/playground');
    expect(screen.getByRole('link', { name: 'Playground' }).getAttribute('aria-current')).toBe('page');
  });

  it('leaves Escape alone while the menu is closed', () => {
    renderShell();
    const button = screen.getByRole('button', { name: 'Menu' });
    const outside = screen.getByRole('button', { name: 'Sign out' });
    outside.focus();
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(document.activeElement).toBe(outside);
    expect(button.getAttribute('aria-expanded')).toBe('false');
  });
});
