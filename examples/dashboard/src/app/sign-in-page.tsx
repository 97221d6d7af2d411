import { TallyError } from '@tally/core';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { useDashboard } from './context.tsx';
import { isAdmin, type Principal, type SampleCustomer } from './demo-api.ts';
import { ErrorNotice, Page, tierName } from './page.tsx';
import { Link, navigate, queryParam, useLocation } from './router.tsx';

/** Where to go after signing in: the page asked for, if this principal may see it, else its home. */
export function homeFor(principal: Principal, next: string | null): string {
  const admin = isAdmin(principal);
  if (next?.startsWith('/admin') && admin) return next;
  if (next?.startsWith('/app') && principal.customerId) return next;
  return admin ? '/admin/health' : '/app/account';
}

type Pending = 'customer' | 'admin' | null;

const KEYCLOAK_EXAMPLE = `const authenticate = createKeycloakAuthenticate({
  url: 'https://sso.example.com',
  realm: 'app',
  clientId: 'tally-api',
});
const handler = createTallyHandler({ tally, billing, authenticate });`;

/**
 * The demo's sign-in: pick one of the sample customers, or the operator. The server sets a signed
 * session cookie; in production this page is your identity provider's.
 */
export function SignInPage() {
  const { demo, principal, signIn } = useDashboard();
  const { search } = useLocation();
  const next = queryParam(search, 'next');
  const [customers, setCustomers] = useState<SampleCustomer[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [picked, setPicked] = useState('');
  const [pending, setPending] = useState<Pending>(null);
  const [error, setError] = useState<unknown>(null);
  const selectId = useId();
  const hintId = useId();

  const load = () => {
    setLoadError(null);
    demo
      .customers()
      .then((list) => {
        setCustomers(list);
        setPicked((current) => current || (list[0]?.id ?? ''));
      })
      .catch(setLoadError);
  };
  useEffect(load, [demo]);

  const go = async (as: string, kind: Exclude<Pending, null>) => {
    setPending(kind);
    setError(null);
    try {
      const signedIn = await signIn(as);
      navigate(homeFor(signedIn, next));
    } catch (failure) {
      setError(failure);
      setPending(null);
    }
  };

  const onCustomer = (event: FormEvent) => {
    event.preventDefault();
    if (pending !== null || customers === null) return;
    if (!picked) {
      setError(new TallyError('VALIDATION', 'Pick a sample customer first.'));
      return;
    }
    void go(picked, 'customer');
  };

  return (
    <Page title="Sign in to the Tally demo" intro="Try Tally as one of the sample customers, or look after all of them as the operator.">
      {next ? (
        <p className="tally-note" role="status">
          Sign in to open {next}.
        </p>
      ) : null}
      {principal ? (
        <div className="tally-note dash-row">
          <p>
            You are signed in as <strong>{isAdmin(principal) ? 'the operator' : principal.customerId}</strong>.
          </p>
          <Link to={homeFor(principal, next)} className="tally-link">
            Continue
          </Link>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} title="Could not sign in." /> : null}
      <div className="dash-grid">
        <section className="tally-card" aria-labelledby={`${selectId}-title`}>
          <h2 id={`${selectId}-title`} className="tally-card__title">
            Customer
          </h2>
          <p className="tally-muted" id={hintId}>
            Balance, usage meter, a playground of metered LLM calls, plan changes with a sandbox checkout, coupons and settings.
          </p>
          {loadError ? (
            <ErrorNotice error={loadError} title="The sample customers could not be loaded." onRetry={load} />
          ) : (
            <form className="tally-form" onSubmit={onCustomer} aria-busy={customers === null || undefined}>
              <div className="tally-field">
                <label className="tally-field__label" htmlFor={selectId}>
                  Sample customer
                </label>
                <select
                  id={selectId}
                  className="tally-input dash-select"
                  value={picked}
                  onChange={(event) => setPicked(event.target.value)}
                  disabled={customers === null}
                  aria-describedby={hintId}
                >
                  {customers === null ? <option value="">Loading customers…</option> : null}
                  {customers?.map((customer) => (
                    <option key={customer.id} value={customer.id}>
                      {customer.name ? `${customer.name} (${customer.id})` : customer.id} · {tierName(customer.tier)}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit" className="tally-button" aria-disabled={pending !== null || customers === null || undefined}>
                {pending === 'customer' ? 'Signing in…' : 'Sign in as customer'}
              </button>
            </form>
          )}
        </section>
        <section className="tally-card" aria-labelledby={`${selectId}-admin`}>
          <h2 id={`${selectId}-admin`} className="tally-card__title">
            Operator
          </h2>
          <p className="tally-muted">
            System health, customers and credit grants, coupons, analytics with exports, email previews and the ledger audit.
          </p>
          <button
            type="button"
            className="tally-button"
            aria-disabled={pending !== null || undefined}
            onClick={() => {
              if (pending === null) void go('admin', 'admin');
            }}
          >
            {pending === 'admin' ? 'Signing in…' : 'Sign in as admin'}
          </button>
        </section>
      </div>
      <section className="dash-aside" aria-labelledby={`${selectId}-production`}>
        <h2 id={`${selectId}-production`} className="dash-section-title">
          In production
        </h2>
        <p>
          This page stands in for your identity provider. In production, people sign in with Keycloak, and the server's{' '}
          <code>authenticate</code> is <code>createKeycloakAuthenticate</code> from <code>@tally/adapters/keycloak</code>: it verifies the
          realm's signed access token (its subject is the customer, its realm and client roles are the roles) and hands{' '}
          <code>createTallyHandler</code> the principal, instead of this demo's signed cookie.
        </p>
        <pre className="dash-pre">
          <code>{KEYCLOAK_EXAMPLE}</code>
        </pre>
        <p>
          Start this server with <code>KEYCLOAK_URL</code>, <code>KEYCLOAK_REALM</code> and <code>KEYCLOAK_CLIENT_ID</code> set and it takes
          the realm's tokens as <code>Authorization: Bearer</code> beside this page. <code>createKeycloakSink</code> keeps each user's plan
          and status on their Keycloak account.
        </p>
        <p>
          Read the{' '}
          <a className="tally-link" href="/docs/guides/authentication">
            authentication guide
          </a>{' '}
          and the{' '}
          <a className="tally-link" href="/docs">
            API reference
          </a>
          .
        </p>
      </section>
    </Page>
  );
}
