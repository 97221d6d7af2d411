import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { isAdmin, type Principal } from '../demo-api.ts';
import { type LiveStatus, useLiveStatus } from '../live.tsx';
import { APP_NAME } from '../page.tsx';
import { Link } from '../router.tsx';
import { ThemeToggle } from '../theme.tsx';

export interface NavItem {
  to: string;
  label: string;
}

export const CUSTOMER_NAV: NavItem[] = [
  { to: '/app/account', label: 'Account' },
  { to: '/app/playground', label: 'Playground' },
  { to: '/app/plan', label: 'Plan' },
  { to: '/app/coupons', label: 'Coupons' },
  { to: '/app/transactions', label: 'Transactions' },
  { to: '/app/settings', label: 'Settings' },
];

export const ADMIN_NAV: NavItem[] = [
  { to: '/admin/health', label: 'Health' },
  { to: '/admin/customers', label: 'Customers' },
  { to: '/admin/coupons', label: 'Coupons' },
  { to: '/admin/analytics', label: 'Analytics' },
  { to: '/admin/emails', label: 'Emails' },
  { to: '/admin/audit', label: 'Audit' },
];

const LIVE_TEXT: Record<LiveStatus, string> = {
  open: 'Live updates on',
  connecting: 'Connecting to live updates…',
  closed: 'Live updates off: refreshing every few seconds',
};

function MenuIcon({ open }: { open: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      {open ? (
        <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      ) : (
        <path d="M4 7h16M4 12h16M4 17h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      )}
    </svg>
  );
}

function principalLabel(principal: Principal): string {
  if (isAdmin(principal)) return principal.customerId ? `${principal.customerId} (admin)` : 'Operator (admin)';
  return principal.customerId ?? 'Signed in';
}

/**
 * The page frame: a header (name, who is signed in, dark mode, sign out), the side navigation
 * (a menu behind a button under 768 px) and the main landmark. Without `nav` (the sign-in page)
 * there is no menu.
 */
export function Shell({
  principal,
  nav,
  navLabel,
  onSignOut,
  children,
}: {
  principal: Principal | null;
  nav?: NavItem[];
  navLabel?: string;
  onSignOut?: () => void;
  children?: ReactNode;
}) {
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const navRef = useRef<HTMLElement>(null);
  const navId = useId();
  const live = useLiveStatus();

  // Escape closes the menu and hands focus back to its button.
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  // Opening moves focus into the menu (its first link), so the next Tab walks through it.
  useEffect(() => {
    if (menuOpen) navRef.current?.querySelector<HTMLElement>('a')?.focus();
  }, [menuOpen]);

  return (
    <div className="dash-shell">
      <a className="dash-skip" href="#main">
        Skip to content
      </a>
      <header className="dash-header">
        <div className="dash-header__start">
          {nav ? (
            <button
              ref={menuButton}
              type="button"
              className="dash-icon-button dash-menu-button"
              aria-expanded={menuOpen}
              aria-controls={navId}
              onClick={() => setMenuOpen((open) => !open)}
            >
              <MenuIcon open={menuOpen} />
              <span>Menu</span>
            </button>
          ) : null}
          <Link to={principal ? (isAdmin(principal) ? '/admin/health' : '/app/account') : '/'} className="dash-brand">
            {APP_NAME}
          </Link>
        </div>
        <div className="dash-header__end">
          {principal ? (
            <p className="dash-principal">
              <span className="dash-visually-hidden">Signed in as </span>
              <span className="dash-principal__name">{principalLabel(principal)}</span>
            </p>
          ) : null}
          <ThemeToggle />
          {principal && onSignOut ? (
            <button type="button" className="tally-button" data-variant="secondary" onClick={onSignOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <div className={nav ? 'dash-body' : 'dash-body dash-body--plain'}>
        {nav ? (
          <nav ref={navRef} id={navId} className="dash-nav" aria-label={navLabel ?? 'Pages'} data-open={menuOpen}>
            <ul className="dash-nav__list">
              {nav.map((item) => (
                <li key={item.to}>
                  <Link to={item.to} className="dash-nav__link" onClick={() => setMenuOpen(false)}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
            <p className="dash-live" data-status={live}>
              <span className="dash-live__dot" aria-hidden="true" />
              {LIVE_TEXT[live]}
            </p>
          </nav>
        ) : null}
        <main id="main" className="dash-main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
