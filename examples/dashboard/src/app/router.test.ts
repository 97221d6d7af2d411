// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Link, navigate, normalizePath, queryParam, useLocation } from './router.tsx';

afterEach(cleanup);
beforeEach(() => window.history.replaceState(null, '', '/'));

function Where() {
  const location = useLocation();
  return createElement('output', { 'aria-label': 'where' }, `${location.pathname}${location.search}`);
}

const where = () => screen.getByLabelText('where').textContent;

describe('router', () => {
  it('follows navigate(), replace, and the back button', () => {
    render(createElement(Where));
    expect(where()).toBe('/');
    act(() => navigate('/app/plan?x=1'));
    expect(where()).toBe('/app/plan?x=1');
    const length = window.history.length;
    act(() => navigate('/app/coupons', { replace: true }));
    expect(where()).toBe('/app/coupons');
    expect(window.history.length).toBe(length);
    act(() => {
      window.history.pushState(null, '', '/admin/health');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(where()).toBe('/admin/health');
  });

  it('Link navigates in place on a plain click and leaves modified clicks to the browser', () => {
    render(createElement('div', null, createElement(Where), createElement(Link, { to: '/app/settings' }, 'Settings')));
    const link = screen.getByRole('link', { name: 'Settings' });
    expect(link.getAttribute('href')).toBe('/app/settings');

    const modified = fireEvent.click(link, { ctrlKey: true });
    expect(modified).toBe(true); // not prevented: the browser opens a new tab
    expect(where()).toBe('/');

    const plain = fireEvent.click(link);
    expect(plain).toBe(false); // prevented: handled in place
    expect(where()).toBe('/app/settings');
    expect(link.getAttribute('aria-current')).toBe('page');
  });

  it('reads paths and query parameters', () => {
    expect(normalizePath('/app/plan/')).toBe('/app/plan');
    expect(normalizePath('/')).toBe('/');
    expect(queryParam('?checkout=done&x=1', 'checkout')).toBe('done');
    expect(queryParam('', 'checkout')).toBeNull();
  });
});
