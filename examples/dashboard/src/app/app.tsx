import { TallyError } from '@tally/core';
import { createTallyCache, createTallyClient } from '@tally/core/client';
import { TallyProvider } from '@tally/react';
import { lazy, type ReactNode, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { AuditPage } from './admin/audit-page.tsx';
import { CouponsAdminPage } from './admin/coupons-page.tsx';
import { CustomersPage } from './admin/customers-page.tsx';
import { EmailsPage } from './admin/emails-page.tsx';
import { HealthPage } from './admin/health-page.tsx';
import { type Dashboard, DashboardContext, useDashboard } from './context.tsx';
import { AccountPage } from './customer/account-page.tsx';
import { CouponsPage } from './customer/coupons-page.tsx';
import { CustomerLiveRefresh } from './customer/live-refresh.tsx';
import { PlanPage } from './customer/plan-page.tsx';
import { PlaygroundPage } from './customer/playground-page.tsx';
import { SettingsPage } from './customer/settings-page.tsx';
import { TransactionsPage } from './customer/transactions-page.tsx';
import { createDemoApi, isAdmin, type Principal } from './demo-api.ts';
import type { AppEnvironment } from './environment.ts';
import { LiveEventsProvider } from './live.tsx';
import { ErrorNotice, Loading, Page } from './page.tsx';
import { Link, navigate, normalizePath, useLocation } from './router.tsx';
import { ADMIN_NAV, CUSTOMER_NAV, Shell } from './shell/shell.tsx';
import { SignInPage } from './sign-in-page.tsx';

// The analytics page draws with recharts: loaded only when an operator opens it.
const AnalyticsPage = lazy(() => import('./admin/analytics-page.tsx').then((module) => ({ default: module.AnalyticsPage })));

const CUSTOMER_PAGES: Record<string, () => ReactNode> = {
  '/app/account': () => <AccountPage />,
  '/app/playground': () => <PlaygroundPage />,
  '/app/plan': () => <PlanPage />,
  '/app/coupons': () => <CouponsPage />,
  '/app/transactions': () => <TransactionsPage />,
  '/app/settings': () => <SettingsPage />,
};

const ADMIN_PAGES: Record<string, () => ReactNode> = {
  '/admin/health': () => <HealthPage />,
  '/admin/customers': () => <CustomersPage />,
  '/admin/coupons': () => <CouponsAdminPage />,
  '/admin/analytics': () => (
    <Suspense fallback={<Loading label="Loading the analytics…" />}>
      <AnalyticsPage />
    </Suspense>
  ),
  '/admin/emails': () => <EmailsPage />,
  '/admin/audit': () => <AuditPage />,
};

type Session = { status: 'loading' } | { status: 'ready'; principal: Principal | null } | { status: 'error'; error: unknown };

/** The whole dashboard: the session, one typed client and cache per principal, the live events and the pages. */
export function App({ env }: { env: AppEnvironment }) {
  const demo = useMemo(() => createDemoApi(env), [env]);
  const [session, setSession] = useState<Session>({ status: 'loading' });

  const loadSession = useCallback(() => {
    setSession({ status: 'loading' });
    demo.session().then(
      (principal) => setSession({ status: 'ready', principal }),
      (error: unknown) => setSession({ status: 'error', error }),
    );
  }, [demo]);
  useEffect(loadSession, [loadSession]);

  const principal = session.status === 'ready' ? session.principal : null;
  const principalKey = principal ? `${principal.customerId ?? ''}|${principal.roles.join(',')}` : '';
  // A new principal gets a new client and an empty cache: one customer's answers never show for another.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the principal decides what the client may see
  const client = useMemo(() => createTallyClient({ baseUrl: env.origin, fetch: env.fetch }), [env, principalKey]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: one cache per client
  const cache = useMemo(() => createTallyCache(), [client]);

  const signIn = useCallback(
    async (as: string) => {
      await demo.signIn(as);
      const signedIn = await demo.session();
      if (!signedIn)
        throw new TallyError('UNAUTHENTICATED', 'The server accepted the sign-in but did not start a session. Are cookies blocked?');
      setSession({ status: 'ready', principal: signedIn });
      return signedIn;
    },
    [demo],
  );
  const signOut = useCallback(async () => {
    await demo.signOut();
    setSession({ status: 'ready', principal: null });
    navigate('/');
  }, [demo]);

  const dashboard = useMemo<Dashboard>(
    () => ({ env, demo, client, cache, principal, signIn, signOut }),
    [env, demo, client, cache, principal, signIn, signOut],
  );

  return (
    <DashboardContext.Provider value={dashboard}>
      <TallyProvider client={client} cache={cache} navigate={env.assign}>
        <LiveEventsProvider open={env.openEvents} enabled={principal !== null}>
          {session.status === 'ready' ? (
            <Routes />
          ) : (
            <Shell principal={null}>
              <Page title="Tally demo">
                {session.status === 'loading' ? (
                  <Loading label="Checking your session…" />
                ) : (
                  <ErrorNotice error={session.error} title="The dashboard server could not be reached." onRetry={loadSession} />
                )}
              </Page>
            </Shell>
          )}
        </LiveEventsProvider>
      </TallyProvider>
    </DashboardContext.Provider>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function NotFound() {
  return (
    <Page title="Page not found" intro="There is no page at this address.">
      <Link to="/" className="tally-link">
        Go to the sign-in page
      </Link>
    </Page>
  );
}

function Routes() {
  const { principal, signOut } = useDashboard();
  const { pathname, search } = useLocation();
  const path = normalizePath(pathname);
  const onSignOut = () => void signOut().catch(() => navigate('/'));
  const signInFirst = `/?next=${encodeURIComponent(`${path}${search}`)}`;

  if (path === '/app' || path.startsWith('/app/')) {
    if (!principal?.customerId) return <Redirect to={signInFirst} />;
    if (path === '/app') return <Redirect to={`/app/account${search}`} />;
    const page = CUSTOMER_PAGES[path];
    return (
      <Shell principal={principal} nav={CUSTOMER_NAV} navLabel="Customer pages" onSignOut={onSignOut}>
        <CustomerLiveRefresh customerId={principal.customerId} />
        {page ? page() : <NotFound />}
      </Shell>
    );
  }

  if (path === '/admin' || path.startsWith('/admin/')) {
    if (!isAdmin(principal)) return <Redirect to={signInFirst} />;
    if (path === '/admin') return <Redirect to="/admin/health" />;
    const page = ADMIN_PAGES[path];
    return (
      <Shell principal={principal} nav={ADMIN_NAV} navLabel="Admin pages" onSignOut={onSignOut}>
        {page ? page() : <NotFound />}
      </Shell>
    );
  }

  return (
    <Shell principal={principal} onSignOut={onSignOut}>
      {path === '/' ? <SignInPage /> : <NotFound />}
    </Shell>
  );
}
