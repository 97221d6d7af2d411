/**
 * The sandbox's hosted pages, standing in for Stripe Checkout and the billing portal: small HTML
 * forms with no script, 44 px buttons, readable at 320 px and dark when the system is. Whoever has a
 * checkout's URL may pay it, as with a hosted checkout.
 */
import { type Catalog, formatCredits, formatMoney, type SandboxProvider, TallyError } from '@tally/core';
import { Hono } from 'hono';

/** Where the app shows the result of a checkout. */
export const CHECKOUT_DONE = '/app/account?checkout=done';
export const CHECKOUT_CANCELED = '/app/plan?checkout=canceled';
const ACCOUNT = '/app/account';

const esc = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7fb;--card:#fff;--text:#111827;--muted:#4b5563;--line:#d1d5db;--primary:#4338ca;--on-primary:#fff;--danger:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#0b1020;--card:#151b2e;--text:#f3f4f6;--muted:#c7cbd6;--line:#374151;--primary:#a5b4fc;--on-primary:#111827;--danger:#fca5a5}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:28rem;margin:0 auto;padding:2rem 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.25rem}
.badge{display:inline-block;font-size:.8125rem;font-weight:600;letter-spacing:.02em;color:var(--muted);border:1px solid var(--line);border-radius:999px;padding:.125rem .625rem}
h1{font-size:1.375rem;line-height:1.3;margin:.75rem 0 .25rem}
p{margin:.5rem 0;color:var(--muted)}
dl{margin:1rem 0;display:grid;grid-template-columns:auto 1fr;gap:.375rem 1rem}
dt{color:var(--muted)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.total{font-size:1.25rem;font-weight:700}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}
button,a.button{flex:1 1 8rem;min-height:44px;min-width:44px;padding:.625rem 1rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;text-align:center;text-decoration:none;display:inline-flex;align-items:center;justify-content:center}
.pay{background:var(--primary);color:var(--on-primary);border:1px solid var(--primary)}
.secondary{background:transparent;color:var(--text);border:1px solid var(--line)}
button:focus-visible,a.button:focus-visible{outline:3px solid var(--primary);outline-offset:2px}
.error{color:var(--danger);font-weight:600}
`;

function page(title: string, body: string, status = 200): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)} · Tally sandbox</title><style>${STYLE}</style></head><body><main><div class="card"><span class="badge">Sandbox: no real money moves</span>${body}</div></main></body></html>`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
    },
  });
}

const linkButton = (href: string, label: string) =>
  `<div class="actions"><a class="button secondary" href="${esc(href)}">${esc(label)}</a></div>`;

/** Where to go back to (`return=`): a path, or a URL on this origin; anything else is the account page. */
function localPath(value: string | undefined, requestUrl: string): string {
  if (!value || value.includes('\\')) return ACCOUNT;
  const origin = new URL(requestUrl).origin;
  if (!URL.canParse(value, origin)) return ACCOUNT;
  const target = new URL(value, origin);
  return target.origin === origin ? `${target.pathname}${target.search}` : ACCOUNT;
}

async function formAction(request: Request): Promise<string | null> {
  const type = (request.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const text = await request.text();
  if (text.length > 1024) return null;
  return new URLSearchParams(text).get('action');
}

export function sandboxPages(sandbox: SandboxProvider, catalog: Catalog): Hono {
  const app = new Hono();
  const money = (cents: bigint) => formatMoney({ currency: catalog.currency, amount: cents });

  function checkoutPage(id: string, message?: string, status = 200): Response {
    const checkout = sandbox.checkout(id);
    if (!checkout)
      return page(
        'Checkout not found',
        `<h1>Checkout not found</h1><p>No sandbox checkout has this address.</p>${linkButton(ACCOUNT, 'Back to the app')}`,
        404,
      );
    if (checkout.status === 'complete') {
      return page(
        'Paid',
        `<h1>Already paid</h1><p>This checkout was completed.</p>${linkButton(CHECKOUT_DONE, 'Back to your account')}`,
        message ? 409 : 200,
      );
    }
    let what: string;
    let rows: string;
    let total: bigint;
    if (checkout.purpose.mode === 'subscription') {
      const tierId = checkout.purpose.tier;
      const tier = catalog.tiers.find((t) => t.id === tierId);
      if (!tier) return page('Checkout not found', '<h1>This plan no longer exists</h1>', 404);
      total = tier.price;
      const credits = tier.allowance === 'unlimited' ? 'Unlimited credits' : `${formatCredits(tier.allowance)} credits`;
      what = `Subscribe to ${tier.name}`;
      rows = `<dt>Plan</dt><dd>${esc(tier.name)}</dd><dt>Includes</dt><dd>${esc(credits)} per ${esc(tier.interval)}</dd><dt>Billed</dt><dd>every ${esc(tier.interval)} from today</dd>`;
    } else {
      const packId = checkout.purpose.packId;
      const pack = catalog.packs.find((p) => p.id === packId);
      if (!pack) return page('Checkout not found', '<h1>This credit pack no longer exists</h1>', 404);
      total = pack.price;
      what = `Buy ${pack.name}`;
      rows = `<dt>Credit pack</dt><dd>${esc(pack.name)}</dd><dt>Adds</dt><dd>${esc(formatCredits(pack.credits))} credits to your balance</dd>`;
    }
    const action = `/sandbox/checkout/${encodeURIComponent(id)}`;
    return page(
      what,
      `<h1>${esc(what)}</h1><p>Customer <strong>${esc(checkout.customerId)}</strong></p>${message ? `<p class="error" role="alert">${esc(message)}</p>` : ''}
<dl>${rows}<dt class="total">Due today</dt><dd class="total">${esc(money(total))}</dd></dl>
<form method="post" action="${esc(action)}" class="actions">
<button class="pay" type="submit" name="action" value="pay">Pay ${esc(money(total))}</button>
<button class="secondary" type="submit" name="action" value="cancel">Cancel</button>
</form>
<p>The sandbox accepts every payment unless told to decline: the payment's events go to the app's webhook like Stripe's would.</p>`,
      status,
    );
  }

  app.get('/sandbox/checkout/:id', (c) => checkoutPage(c.req.param('id')));

  app.post('/sandbox/checkout/:id', async (c) => {
    const id = c.req.param('id');
    if (!sandbox.checkout(id)) return checkoutPage(id);
    const action = await formAction(c.req.raw);
    if (action === 'cancel') return c.redirect(CHECKOUT_CANCELED, 303);
    if (action !== 'pay') return checkoutPage(id, 'Choose Pay or Cancel.', 400);
    try {
      await sandbox.completeCheckout(id);
    } catch (error) {
      if (TallyError.is(error, 'PAYMENT_FAILED')) return checkoutPage(id, `The card was declined: ${error.message}`, 402);
      if (TallyError.is(error, 'CONFLICT')) return checkoutPage(id, error.message, 409);
      throw error;
    }
    return c.redirect(CHECKOUT_DONE, 303);
  });

  app.get('/sandbox/portal/:customer', (c) => {
    const customer = c.req.param('customer');
    const back = localPath(c.req.query('return'), c.req.url);
    const action = `/sandbox/portal/${encodeURIComponent(customer)}?return=${encodeURIComponent(back)}`;
    return page(
      'Billing portal',
      `<h1>Billing portal</h1><p>Payment methods of <strong>${esc(customer)}</strong>.</p>
<form method="post" action="${esc(action)}" class="actions">
<button class="pay" type="submit" name="action" value="add-card">Add a test card •••• 4242</button>
<a class="button secondary" href="${esc(back)}">Back</a>
</form>`,
    );
  });

  app.post('/sandbox/portal/:customer', async (c) => {
    const customer = c.req.param('customer');
    const back = localPath(c.req.query('return'), c.req.url);
    if ((await formAction(c.req.raw)) !== 'add-card') return c.redirect(back, 303);
    try {
      sandbox.setPaymentMethod(customer, true);
    } catch (error) {
      if (TallyError.is(error, 'NOT_FOUND')) {
        return page(
          'Not found',
          `<h1>Unknown customer</h1><p>The sandbox has no customer ${esc(customer)}.</p>${linkButton(back, 'Back')}`,
          404,
        );
      }
      throw error;
    }
    return c.redirect(back, 303);
  });

  return app;
}
