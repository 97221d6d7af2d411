/**
 * THE route table of `@tally/core/http`: every route the handler serves is one entry here, and the
 * handler serves nothing else. Who may call a route follows from its `scope` only (route.ts); the
 * authorization test walks this table. Shapes: wire.ts; schemas: schemas.ts; docs/http.md.
 */
import type { Billing } from '../billing/service.js';
import type { ByokKeys } from '../byok/keys.js';
import { TallyError } from '../errors/index.js';
import type { Bucket, GrantResult, OperationResult } from '../ledger/types.js';
import { amount } from '../ledger/validate.js';
import type { Notifier } from '../notifications/email.js';
import { escapeHtml } from '../notifications/html.js';
import { NOTIFICATION_CATEGORIES, type NotificationCategory, type NotificationPreferences } from '../notifications/index.js';
import { analyticsRoutes } from './analytics-routes.js';
import { type AnyRoute, defineRoute, type RouteDeps } from './route.js';
import * as s from './schemas.js';
import * as w from './serialize.js';
import { usageReport } from './usage.js';
import type { WireBalance, WireLedgerOperation, WireNotificationPreferences, WireTierChangeResult } from './wire.js';

const ENABLED_BY = { billing: 'the `billing` option', byok: 'the `byok` option', notifier: 'the `notifier` option' } as const;

function billingOf(deps: RouteDeps): Billing {
  if (!deps.billing) throw new TallyError('ROUTE_NOT_FOUND', `This route needs ${ENABLED_BY.billing}`);
  return deps.billing;
}

function notifierOf(deps: RouteDeps): Notifier {
  if (!deps.notifier) throw new TallyError('ROUTE_NOT_FOUND', `This route needs ${ENABLED_BY.notifier}`);
  return deps.notifier;
}

/** A small self-contained page for the unsubscribe link (no scripts, no external assets). */
function unsubscribePage(title: string, body: string, status = 200): Response {
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111}button{font:inherit;min-height:44px;padding:0 1.25rem;border-radius:6px;border:0;background:#4f46e5;color:#fff;cursor:pointer}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
  return new Response(html, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  });
}

const wantsHtml = (request: Request) => (request.headers.get('accept') ?? '').includes('text/html');

function byokOf(deps: RouteDeps): ByokKeys {
  if (!deps.byok) throw new TallyError('ROUTE_NOT_FOUND', `This route needs ${ENABLED_BY.byok}`);
  return deps.byok;
}

async function balanceOf(deps: RouteDeps, customerId: string, now: Date): Promise<WireBalance> {
  return w.wireBalance(await deps.tally.balance(customerId), now);
}

/** The kinds of the customer's live buckets, so history entries can name the bucket they touched. */
async function bucketKinds(deps: RouteDeps, customerId: string): Promise<Map<string, Bucket['kind']>> {
  const balance = await deps.tally.balance(customerId);
  return new Map(balance.buckets.map((bucket) => [bucket.id, bucket.kind]));
}

async function ledgerOperation(deps: RouteDeps, customerId: string, result: OperationResult, now: Date): Promise<WireLedgerOperation> {
  const kinds = await bucketKinds(deps, customerId);
  if ('bucket' in result) {
    const bucket = (result as GrantResult).bucket;
    kinds.set(bucket.id, bucket.kind);
  }
  return {
    operationId: result.operationId,
    replayed: result.replayed,
    entries: result.entries.map((entry) => w.wireEntry(entry, kinds)),
    balance: await balanceOf(deps, customerId, now),
  };
}

function wirePreferences(preferences: NotificationPreferences): WireNotificationPreferences {
  return {
    categories: NOTIFICATION_CATEGORIES.map((category) => ({
      id: category.id,
      enabled: preferences.categories[category.id],
      required: category.required,
      reason: category.reason,
    })),
  };
}

/** The origin a portal `returnUrl` must be on: the configured ones, else the default return URL's and the request's. */
function checkReturnUrl(deps: RouteDeps, request: Request, returnUrl: string | undefined): string {
  const requestOrigin = new URL(request.url).origin;
  const fallback = deps.portal.returnUrl ?? `${requestOrigin}/`;
  if (returnUrl === undefined) return fallback;
  const allowed = deps.portal.allowedOrigins ?? [new URL(fallback).origin, requestOrigin];
  if (!allowed.includes(new URL(returnUrl).origin)) {
    throw new TallyError('VALIDATION', 'returnUrl is not on an allowed origin', {
      issues: [{ path: ['returnUrl'], message: 'not on an allowed origin' }],
    });
  }
  return returnUrl;
}

async function requireCustomer(deps: RouteDeps, customerId: string): Promise<void> {
  await deps.tally.customers.get(customerId);
}

export const routes: readonly AnyRoute[] = Object.freeze([
  // ---- public
  defineRoute({
    id: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    scope: 'public',
    summary: 'Health check',
    description: 'Answers 200 while the handler is up. Touches no storage, so it is safe for load balancers to poll.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.healthSchema },
    mutation: false,
    handle: async ({ now }) => ({ status: 'ok' as const, time: now.toISOString() }),
  }),
  defineRoute({
    id: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    scope: 'public',
    summary: 'OpenAPI document',
    description: 'The OpenAPI 3.1 document of the routes this handler serves, generated from the same zod schemas it validates with.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.openApiDocumentSchema },
    mutation: false,
    handle: async ({ deps }) => deps.openapi(),
  }),

  // ---- customer: account
  defineRoute({
    id: 'getMe',
    method: 'GET',
    path: '/v1/me',
    scope: 'customer',
    summary: 'The caller',
    description: 'Tier, subscription, balance and provider-key balances of the calling customer: what a dashboard header shows.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.meSchema },
    mutation: false,
    async handle({ deps, customerId, now }) {
      const record = await deps.tally.customers.get(customerId);
      const balance = await balanceOf(deps, customerId, now);
      const subscription = await deps.tally.store.getSubscription(customerId);
      const providerBalances = await deps.tally.store.listProviderBalances(customerId);
      return {
        customerId,
        tier: { id: record.tier, name: deps.tally.catalog.tiers.find((tier) => tier.id === record.tier)?.name ?? record.tier },
        unlimited: record.unlimited,
        subscription: subscription ? w.wireSubscription(subscription) : null,
        balance,
        providerBalances: providerBalances.map(w.wireProviderBalance),
      };
    },
  }),
  defineRoute({
    id: 'getBalance',
    method: 'GET',
    path: '/v1/balance',
    scope: 'customer',
    summary: 'Balance',
    description:
      'The calling customer’s credits: balance, holds, debt, what is available now, the live buckets and the period’s allowance.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.balanceSchema },
    mutation: false,
    handle: async ({ deps, customerId, now }) => balanceOf(deps, customerId, now),
  }),
  defineRoute({
    id: 'getUsage',
    method: 'GET',
    path: '/v1/usage',
    scope: 'customer',
    summary: 'Usage by model or day',
    description:
      'Charges (spend, usage and capture entries) in [from, to), grouped per model or per UTC day. Default: the 30 UTC days up to and including today; at most 366 days at once.',
    query: s.usageQuerySchema,
    response: { status: 200, schema: s.usageSchema },
    mutation: false,
    handle: async ({ deps, customerId, now, query }) => usageReport(deps.tally, customerId, now, query),
  }),
  defineRoute({
    id: 'listTransactions',
    method: 'GET',
    path: '/v1/transactions',
    scope: 'customer',
    summary: 'Credit history',
    description: 'The calling customer’s ledger entries, newest first, a page at a time (pass `nextCursor` as `cursor`). Filter by `kind`.',
    query: s.transactionsQuerySchema,
    response: { status: 200, schema: s.entryPageSchema },
    mutation: false,
    async handle({ deps, customerId, query }) {
      const page = await deps.tally.transactions({
        customerId,
        limit: query.limit ?? 50,
        ...(query.kind ? { kinds: query.kind } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      const kinds = await bucketKinds(deps, customerId);
      return { items: page.items.map((entry) => w.wireEntry(entry, kinds)), nextCursor: page.nextCursor };
    },
  }),

  // ---- customer: subscription
  defineRoute({
    id: 'listTiers',
    method: 'GET',
    path: '/v1/tiers',
    scope: 'customer',
    summary: 'Tiers',
    description: 'Every tier of the catalog, cheapest first, and the caller’s current one: what a pricing table shows.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.tiersSchema },
    mutation: false,
    async handle({ deps, customerId }) {
      const record = await deps.tally.customers.get(customerId);
      const catalog = deps.tally.catalog;
      return { tiers: catalog.tiers.map((tier) => w.wireTier(catalog, tier)), current: record.tier };
    },
  }),
  defineRoute({
    id: 'previewTierChange',
    method: 'POST',
    path: '/v1/subscription/preview',
    scope: 'customer',
    summary: 'Preview a tier change',
    description:
      'What changing to `tier` would cost now, line by line like Stripe’s prorations, and the credits it would grant. Changes nothing (POST only to carry the body).',
    body: s.tierRequestSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.tierChangePreviewSchema },
    mutation: false,
    requires: 'billing',
    handle: async ({ deps, customerId, body }) => w.wirePreview(await billingOf(deps).previewChange(customerId, body.tier)),
  }),
  defineRoute({
    id: 'changeTier',
    method: 'POST',
    path: '/v1/subscription/change',
    scope: 'customer',
    summary: 'Subscribe or change tier',
    description:
      'Without a subscription (or after a cancel) this subscribes: a trial or free tier starts at once, a paid one answers with a checkout URL. With one, an upgrade is charged now (or needs checkout or a card), a downgrade is scheduled for the period end.',
    body: s.tierRequestSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.tierChangeResultSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId, body }): Promise<WireTierChangeResult> {
      const billing = billingOf(deps);
      const existing = await billing.getSubscription(customerId);
      if (!existing || existing.status === 'canceled') {
        const started = await billing.subscribe({ customerId, tier: body.tier });
        return started.status === 'started'
          ? { status: 'started', subscription: w.wireSubscription(started.subscription) }
          : { status: 'checkout', url: started.url };
      }
      const result = await billing.changeTier({ customerId, tier: body.tier });
      switch (result.status) {
        case 'checkout':
          return { status: 'checkout', url: result.url };
        case 'charged':
          return {
            status: 'charged',
            paid: result.paid,
            amountDueCents: result.amountDueCents.toString(),
            hostedInvoiceUrl: result.hostedInvoiceUrl,
          };
        case 'payment_method_required':
          return { status: 'payment_method_required', url: result.url };
        case 'scheduled':
          return {
            status: 'scheduled',
            effectiveAt: result.effectiveAt.toISOString(),
            subscription: w.wireSubscription(result.subscription),
          };
      }
    },
  }),
  defineRoute({
    id: 'cancelSubscription',
    method: 'POST',
    path: '/v1/subscription/cancel',
    scope: 'customer',
    summary: 'Cancel at period end',
    description: 'Schedules the cancel for the end of the current period (nothing is refunded). Undo with `POST /v1/subscription/resume`.',
    body: s.emptyBodySchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.subscriptionSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId }) {
      const result = await billingOf(deps).cancel(customerId);
      if (result.status !== 'scheduled') throw new TallyError('INTERNAL', `cancel answered ${result.status}`);
      return w.wireSubscription(result.subscription);
    },
  }),
  defineRoute({
    id: 'resumeSubscription',
    method: 'POST',
    path: '/v1/subscription/resume',
    scope: 'customer',
    summary: 'Undo a scheduled change',
    description: 'Takes back a scheduled downgrade or cancel; `CONFLICT` when none is scheduled.',
    body: s.emptyBodySchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.subscriptionSchema },
    mutation: true,
    requires: 'billing',
    handle: async ({ deps, customerId }) => w.wireSubscription(await billingOf(deps).undoScheduledChange(customerId)),
  }),
  defineRoute({
    id: 'openPaymentMethodPortal',
    method: 'POST',
    path: '/v1/payment-method/portal',
    scope: 'customer',
    summary: 'Payment-method portal',
    description:
      'A page at the payment provider where the customer manages cards. `returnUrl` must be on an allowed origin (the handler’s `checkoutUrls`), so the link can’t send anyone elsewhere.',
    body: s.portalRequestSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.checkoutSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId, request, body }) {
      const returnUrl = checkReturnUrl(deps, request, body.returnUrl);
      const portal = await billingOf(deps).portal(customerId, returnUrl);
      return { url: portal.url };
    },
  }),
  defineRoute({
    id: 'redeemCoupon',
    method: 'POST',
    path: '/v1/coupons/redeem',
    scope: 'customer',
    summary: 'Redeem a coupon',
    description:
      'Redeems a code once per customer: credits land in a coupon bucket, a percent-off coupon discounts the next invoices. Retries with the same Idempotency-Key replay the first answer.',
    body: s.redeemRequestSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.redemptionSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId, body, idempotencyKey }) {
      const result = await billingOf(deps).redeemCoupon({ customerId, code: body.code, idempotencyKey });
      return {
        code: result.redemption.code,
        benefit: w.wireBenefit(result.redemption.benefit),
        grantedMicros: result.grant ? result.grant.bucket.grantedMicros.toString() : null,
        redeemedAt: result.redemption.createdAt.toISOString(),
      };
    },
  }),

  // ---- customer: credits
  defineRoute({
    id: 'listCreditPacks',
    method: 'GET',
    path: '/v1/credit-packs',
    scope: 'customer',
    summary: 'Credit packs',
    description: 'The one-time credit purchases of the catalog.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.creditPacksSchema },
    mutation: false,
    requires: 'billing',
    async handle({ deps }) {
      const catalog = billingOf(deps).catalog;
      return catalog.packs.map((pack) => ({
        id: pack.id,
        name: pack.name,
        priceCents: pack.price.toString(),
        currency: catalog.currency,
        creditsMicros: pack.credits.toString(),
      }));
    },
  }),
  defineRoute({
    id: 'checkoutCreditPack',
    method: 'POST',
    path: '/v1/credit-packs/{packId}/checkout',
    scope: 'customer',
    summary: 'Buy a credit pack',
    description: 'A hosted checkout for the pack; the credits land when the payment provider confirms the payment (webhook).',
    params: s.packParams,
    body: s.emptyBodySchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.checkoutSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId, params }) {
      await requireCustomer(deps, customerId);
      const checkout = await billingOf(deps).buyCredits({ customerId, packId: params.packId });
      return { url: checkout.url };
    },
  }),
  defineRoute({
    id: 'getAutoRecharge',
    method: 'GET',
    path: '/v1/auto-recharge',
    scope: 'customer',
    summary: 'Auto-recharge settings',
    description: 'The automatic top-up settings; off (with the first pack) until the customer saves some.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.autoRechargeSchema },
    mutation: false,
    requires: 'billing',
    async handle({ deps, customerId }) {
      const billing = billingOf(deps);
      await requireCustomer(deps, customerId);
      const settings = await deps.tally.store.getAutoRecharge(customerId);
      if (!settings) return { enabled: false, thresholdMicros: '0', packId: billing.catalog.packs[0]?.id ?? '', maxPerMonth: 1 };
      return {
        enabled: settings.enabled,
        thresholdMicros: settings.thresholdMicros.toString(),
        packId: settings.packId,
        maxPerMonth: settings.maxPerMonth,
      };
    },
  }),
  defineRoute({
    id: 'setAutoRecharge',
    method: 'PUT',
    path: '/v1/auto-recharge',
    scope: 'customer',
    summary: 'Save auto-recharge settings',
    description: 'Buys `packId` off-session whenever available credit falls below `thresholdMicros`, at most `maxPerMonth` times a month.',
    body: s.autoRechargeInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.autoRechargeSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, customerId, body }) {
      await requireCustomer(deps, customerId);
      const thresholdMicros = amount(body.thresholdMicros, 'thresholdMicros', 'non-negative');
      const saved = await billingOf(deps).setAutoRecharge({ ...body, customerId, thresholdMicros });
      return {
        enabled: saved.enabled,
        thresholdMicros: saved.thresholdMicros.toString(),
        packId: saved.packId,
        maxPerMonth: saved.maxPerMonth,
      };
    },
  }),
  defineRoute({
    id: 'listSpendCaps',
    method: 'GET',
    path: '/v1/spend-caps',
    scope: 'customer',
    summary: 'Spend caps',
    description: 'Every capped scope (the customer, each end user, one end user) with what it used today and this month (UTC).',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.spendCapsSchema },
    mutation: false,
    handle: async ({ deps, customerId }) => (await deps.tally.spendCaps.list(customerId)).map(w.wireSpendCap),
  }),
  defineRoute({
    id: 'setSpendCap',
    method: 'PUT',
    path: '/v1/spend-caps',
    scope: 'customer',
    summary: 'Set a spend cap',
    description:
      'Sets the daily and monthly caps of the customer’s total (no `endUserId`), one end user, or each end user (`"*"`). Both null removes them.',
    body: s.spendCapInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.spendCapSchema },
    mutation: true,
    async handle({ deps, customerId, body }) {
      const status = await deps.tally.spendCaps.set({
        customerId,
        dailyMicros: body.dailyMicros,
        monthlyMicros: body.monthlyMicros,
        ...(body.endUserId !== undefined ? { endUserId: body.endUserId } : {}),
      });
      return w.wireSpendCap(status);
    },
  }),

  // ---- customer: provider keys and notifications
  defineRoute({
    id: 'listByokKeys',
    method: 'GET',
    path: '/v1/byok',
    scope: 'customer',
    summary: 'Provider keys',
    description: 'The caller’s own provider keys (last 4 characters only; the secret never leaves the vault).',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.byokKeysSchema },
    mutation: false,
    requires: 'byok',
    async handle({ deps, customerId }) {
      const byok = byokOf(deps);
      const keys = [];
      for (const provider of deps.byokProviders) {
        const info = await byok.get(customerId, provider);
        if (info) keys.push(w.wireByokKey(info));
      }
      return keys;
    },
  }),
  defineRoute({
    id: 'setByokKey',
    method: 'PUT',
    path: '/v1/byok/{provider}',
    scope: 'customer',
    summary: 'Store a provider key',
    description: 'Seals and stores the caller’s key for `provider` (one of the handler’s `byokProviders`), replacing any earlier one.',
    params: s.providerParams,
    body: s.byokKeyInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.byokKeySchema },
    mutation: true,
    requires: 'byok',
    async handle({ deps, customerId, params, body }) {
      const byok = byokOf(deps);
      knownProvider(deps, params.provider);
      return w.wireByokKey(await byok.set(customerId, params.provider, body.apiKey));
    },
  }),
  defineRoute({
    id: 'removeByokKey',
    method: 'DELETE',
    path: '/v1/byok/{provider}',
    scope: 'customer',
    summary: 'Remove a provider key',
    description: 'Deletes the caller’s key for `provider`; `removed` is false when there was none.',
    params: s.providerParams,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.byokRemovedSchema },
    mutation: true,
    requires: 'byok',
    async handle({ deps, customerId, params }) {
      const byok = byokOf(deps);
      knownProvider(deps, params.provider);
      return { provider: params.provider, removed: await byok.remove(customerId, params.provider) };
    },
  }),
  defineRoute({
    id: 'getNotificationPreferences',
    method: 'GET',
    path: '/v1/notifications/preferences',
    scope: 'customer',
    summary: 'Notification preferences',
    description: 'Every email category, on or off; required ones (e.g. payment failed) say why they can’t be turned off.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.notificationPreferencesSchema },
    mutation: false,
    handle: async ({ deps, customerId }) => wirePreferences(await deps.tally.store.getNotificationPreferences(customerId)),
  }),
  defineRoute({
    id: 'setNotificationPreferences',
    method: 'PUT',
    path: '/v1/notifications/preferences',
    scope: 'customer',
    summary: 'Change notification preferences',
    description: 'Turns the named categories on or off; the others keep their values. A required category can’t be turned off.',
    body: s.notificationPreferencesInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.notificationPreferencesSchema },
    mutation: true,
    async handle({ deps, customerId, body, now }) {
      const changes: Partial<Record<NotificationCategory, boolean>> = {};
      for (const [index, { id, enabled }] of body.categories.entries()) {
        if (Object.hasOwn(changes, id)) {
          throw new TallyError('VALIDATION', `category "${id}" is named twice`, {
            issues: [{ path: ['categories', index, 'id'], message: 'named twice' }],
          });
        }
        changes[id as NotificationCategory] = enabled;
      }
      return wirePreferences(await deps.tally.store.setNotificationPreferences({ customerId, changes, at: now }));
    },
  }),

  // ---- admin
  defineRoute({
    id: 'adminListCustomers',
    method: 'GET',
    path: '/v1/admin/customers',
    scope: 'admin',
    summary: 'Customers',
    description: 'Customers in id order, a page at a time; `search` matches any part of the id, any case.',
    query: s.adminCustomersQuerySchema,
    response: { status: 200, schema: s.adminCustomerPageSchema },
    mutation: false,
    async handle({ deps, query }) {
      const page = await deps.tally.store.listCustomers({
        limit: query.limit ?? 50,
        ...(query.search !== undefined ? { search: query.search } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      });
      const items = [];
      for (const record of page.items) items.push(w.wireAdminCustomer(record, await deps.tally.store.getSubscription(record.id)));
      return { items, nextCursor: page.nextCursor };
    },
  }),
  defineRoute({
    id: 'adminGetCustomer',
    method: 'GET',
    path: '/v1/admin/customers/{id}',
    scope: 'admin',
    summary: 'A customer',
    description: 'One customer with balance and subscription.',
    params: s.customerIdParams,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.adminCustomerDetailSchema },
    mutation: false,
    async handle({ deps, params, now }) {
      const record = await deps.tally.customers.get(params.id);
      const subscription = await deps.tally.store.getSubscription(record.id);
      return {
        customer: w.wireAdminCustomer(record, subscription),
        balance: await balanceOf(deps, record.id, now),
        subscription: subscription ? w.wireSubscription(subscription) : null,
      };
    },
  }),
  defineRoute({
    id: 'adminGrantCredits',
    method: 'POST',
    path: '/v1/admin/customers/{id}/grant',
    scope: 'admin',
    summary: 'Grant credits',
    description: 'Adds credits to a bucket of `kind` (default `adjustment`), optionally expiring. Idempotent by Idempotency-Key.',
    params: s.customerIdParams,
    body: s.grantInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.ledgerOperationSchema },
    mutation: true,
    async handle({ deps, params, body, idempotencyKey, now }) {
      const result = await deps.tally.grant({
        customerId: params.id,
        kind: body.kind ?? 'adjustment',
        amountMicros: body.amountMicros,
        expiresAt: body.expiresAt ?? null,
        idempotencyKey,
        ...(body.description !== undefined ? { description: body.description } : {}),
      });
      return ledgerOperation(deps, params.id, result, now);
    },
  }),
  defineRoute({
    id: 'adminAdjustCredits',
    method: 'POST',
    path: '/v1/admin/customers/{id}/adjust',
    scope: 'admin',
    summary: 'Adjust credits',
    description:
      'A signed correction with a required reason: positive adds an adjustment bucket, negative takes credit (never past what is available).',
    params: s.customerIdParams,
    body: s.adjustInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.ledgerOperationSchema },
    mutation: true,
    async handle({ deps, params, body, idempotencyKey, now }) {
      const result = await deps.tally.adjust({
        customerId: params.id,
        amountMicros: body.amountMicros,
        reason: body.reason,
        idempotencyKey,
      });
      return ledgerOperation(deps, params.id, result, now);
    },
  }),
  defineRoute({
    id: 'adminListCoupons',
    method: 'GET',
    path: '/v1/admin/coupons',
    scope: 'admin',
    summary: 'Coupons',
    description: 'Coupons, newest first (up to `limit`).',
    query: s.listQuerySchema,
    response: { status: 200, schema: s.couponsSchema },
    mutation: false,
    requires: 'billing',
    async handle({ deps, query }) {
      billingOf(deps);
      return (await deps.tally.store.listCoupons({ limit: query.limit ?? 50 })).map(w.wireCoupon);
    },
  }),
  defineRoute({
    id: 'adminCreateCoupon',
    method: 'POST',
    path: '/v1/admin/coupons',
    scope: 'admin',
    summary: 'Create a coupon',
    description: 'A credits or percent-off coupon, optionally limited in redemptions, time and tiers. `CONFLICT` when the code exists.',
    body: s.couponInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 201, schema: s.couponSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, body }) {
      const billing = billingOf(deps);
      const benefit = w.domainBenefit(body.benefit);
      if (benefit.type === 'credits') amount(benefit.amountMicros, 'benefit.amountMicros', 'positive');
      const coupon = await billing.createCoupon({
        code: body.code,
        benefit,
        maxRedemptions: body.maxRedemptions ?? null,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        tiers: body.tiers ?? [],
      });
      return w.wireCoupon(coupon);
    },
  }),
  defineRoute({
    id: 'adminUpdateCoupon',
    method: 'PATCH',
    path: '/v1/admin/coupons/{code}',
    scope: 'admin',
    summary: 'Activate or deactivate a coupon',
    description: 'A deactivated coupon can’t be redeemed; redemptions so far stay.',
    params: s.couponParams,
    body: s.couponUpdateSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.couponSchema },
    mutation: true,
    requires: 'billing',
    async handle({ deps, params, body }) {
      billingOf(deps);
      return w.wireCoupon(await deps.tally.store.setCouponActive(params.code.toUpperCase(), body.active));
    },
  }),
  defineRoute({
    id: 'adminAudit',
    method: 'GET',
    path: '/v1/admin/audit',
    scope: 'admin',
    summary: 'Audit the ledger',
    description:
      'Recomputes every balance from the journal and checks the zero-sum, bucket and hold invariants. Reads the whole journal: slow on big ledgers.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.auditReportSchema },
    mutation: false,
    handle: async ({ deps }) => w.wireAudit(await deps.tally.audit()),
  }),
  defineRoute({
    id: 'adminListDeadLetters',
    method: 'GET',
    path: '/v1/admin/outbox/dead-letters',
    scope: 'admin',
    summary: 'Dead letters',
    description: 'Outbox messages the workers gave up on (up to `limit`).',
    query: s.listQuerySchema,
    response: { status: 200, schema: s.outboxMessagesSchema },
    mutation: false,
    handle: async ({ deps, query }) =>
      (await deps.tally.store.listOutbox({ dead: true, limit: query.limit ?? 50 })).map(w.wireOutboxMessage),
  }),
  defineRoute({
    id: 'adminRetryDeadLetter',
    method: 'POST',
    path: '/v1/admin/outbox/dead-letters/{id}/retry',
    scope: 'admin',
    summary: 'Retry a dead letter',
    description: 'Puts a dead message back in the queue with its attempts reset; `NOT_FOUND` when no dead message has that id.',
    params: s.outboxParams,
    body: s.emptyBodySchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.outboxRetriedSchema },
    mutation: true,
    async handle({ deps, params, now }) {
      await deps.tally.store.retryOutbox(params.id, now);
      return { id: params.id, retried: true as const };
    },
  }),

  // ---- admin: emails
  defineRoute({
    id: 'adminListEmailTemplates',
    method: 'GET',
    path: '/v1/admin/emails/templates',
    scope: 'admin',
    summary: 'Email templates',
    description: 'Every notification email, the preference category that governs it and when it goes out.',
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.emailTemplatesSchema },
    mutation: false,
    requires: 'notifier',
    handle: async ({ deps }) => ({ templates: notifierOf(deps).templates() }),
  }),
  defineRoute({
    id: 'adminPreviewEmail',
    method: 'GET',
    path: '/v1/admin/emails/preview/{template}',
    scope: 'admin',
    summary: 'Preview an email',
    description:
      'Renders a template with sample data. `format=json` (default) answers subject, HTML and text; `format=html` answers the HTML document itself (text/html) and `format=text` the plain-text part (text/plain).',
    params: s.emailTemplateParams,
    query: s.emailPreviewQuerySchema,
    response: { status: 200, schema: s.emailPreviewSchema, media: ['application/json', 'text/html', 'text/plain'] },
    mutation: false,
    requires: 'notifier',
    async handle({ deps, params, query }) {
      const locale = query.locale ?? 'en';
      const rendered = await notifierOf(deps).preview(params.template, { locale });
      if (query.format === 'html' || query.format === 'text') {
        const type = query.format === 'html' ? 'text/html' : 'text/plain';
        // A preview is shown in an admin page's iframe: it must not run scripts or load from elsewhere.
        return new Response(query.format === 'html' ? rendered.html : rendered.text, {
          headers: {
            'content-type': `${type}; charset=utf-8`,
            'content-security-policy': "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'",
            'cache-control': 'no-store',
          },
        });
      }
      return { template: params.template, locale, subject: rendered.subject, html: rendered.html, text: rendered.text };
    },
  }),
  defineRoute({
    id: 'adminSendTestEmail',
    method: 'POST',
    path: '/v1/admin/emails/test',
    scope: 'admin',
    summary: 'Send a test email',
    description: 'Renders a template with sample data and sends it to the given address now; the delivery log records it as a test.',
    body: s.emailTestInputSchema,
    query: s.emptyQuerySchema,
    response: { status: 200, schema: s.emailTestResultSchema },
    mutation: true,
    requires: 'notifier',
    async handle({ deps, body }) {
      const delivery = await notifierOf(deps).sendTest(
        body.template,
        { address: body.to, name: null },
        body.locale !== undefined ? { locale: body.locale } : {},
      );
      return { delivery: w.wireEmailDelivery(delivery) };
    },
  }),
  defineRoute({
    id: 'adminEmailLog',
    method: 'GET',
    path: '/v1/admin/emails/log',
    scope: 'admin',
    summary: 'Email delivery log',
    description: 'Every send, failed try (a retry has `attempt` > 1), suppression by preference and test send, newest first.',
    query: s.emailLogQuerySchema,
    response: { status: 200, schema: s.emailDeliveryPageSchema },
    mutation: false,
    requires: 'notifier',
    async handle({ deps, query }) {
      const page = await notifierOf(deps).deliveries({
        limit: query.limit ?? 50,
        ...(query.customerId !== undefined ? { customerId: query.customerId } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.template !== undefined ? { template: query.template } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      });
      return { items: page.items.map(w.wireEmailDelivery), nextCursor: page.nextCursor };
    },
  }),
  // ---- admin: analytics (analytics-routes.ts)
  ...analyticsRoutes,
  // ---- unsubscribe (public: the signed token is the credential)
  defineRoute({
    id: 'unsubscribePage',
    method: 'GET',
    path: '/v1/unsubscribe',
    scope: 'public',
    summary: 'Unsubscribe page',
    description:
      'The page the link in an email opens: it asks for a click and changes nothing itself, because mail scanners open links. Answers text/html.',
    query: s.unsubscribeQuerySchema,
    response: { status: 200, schema: s.unsubscribeResultSchema, media: ['text/html'] },
    mutation: false,
    requires: 'notifier',
    async handle({ request, query }) {
      const action = new URL(request.url);
      action.search = new URLSearchParams({ token: query.token }).toString();
      return unsubscribePage(
        'Unsubscribe',
        `<p>Stop receiving this kind of email? Account and payment notices that must reach you are not affected.</p><form method="post" action="${escapeHtml(action.pathname + action.search)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    },
  }),
  defineRoute({
    id: 'unsubscribe',
    method: 'POST',
    path: '/v1/unsubscribe',
    scope: 'public',
    summary: 'Unsubscribe (one click)',
    description:
      'RFC 8058 one-click unsubscribe: mail providers POST `List-Unsubscribe=One-Click` (form-encoded) to the `List-Unsubscribe` URL. Turns off the token’s category for the token’s customer only. A forged or altered token is 403; a required category (payment failed) is 400. Answers HTML to a browser (`Accept: text/html`), JSON otherwise.',
    query: s.unsubscribeQuerySchema,
    response: { status: 200, schema: s.unsubscribeResultSchema, media: ['application/json', 'text/html'] },
    mutation: false,
    requires: 'notifier',
    async handle({ deps, request, query }) {
      const { category } = await notifierOf(deps).unsubscribe(query.token);
      if (wantsHtml(request)) {
        const label = category.replace(/_/g, ' ');
        return unsubscribePage(
          'You are unsubscribed',
          `<p>You will no longer receive ${escapeHtml(label)} emails. You can turn them back on in your notification settings.</p>`,
        );
      }
      return { category, unsubscribed: true as const };
    },
  }),
  // ---- webhooks (authenticated by the provider's signature, checked by the provider's handler)
  defineRoute({
    id: 'stripeWebhook',
    method: 'POST',
    path: '/v1/webhooks/stripe',
    scope: 'webhook',
    summary: 'Payment provider webhook',
    description:
      'Signed events of the payment provider (Stripe, or the sandbox). The handler passes the raw request to `webhooks.stripe`, else to `billing.webhookResponse`: 200 when applied or seen before, 400 for a bad signature.',
    response: { status: 200, schema: s.webhookAckSchema },
    // Idempotent by the provider's event id, not by an Idempotency-Key.
    mutation: false,
    requires: 'stripe-webhook',
    handle: async ({ deps, request }) => (deps.webhooks.stripe ?? billingOf(deps).webhookResponse)(request),
  }),
  defineRoute({
    id: 'lagoWebhook',
    method: 'POST',
    path: '/v1/webhooks/lago',
    scope: 'webhook',
    summary: 'Lago webhook',
    description: 'Signed events of Lago, passed as the raw request to `webhooks.lago`.',
    response: { status: 200, schema: s.webhookAckSchema },
    // Idempotent by the provider's event id, not by an Idempotency-Key.
    mutation: false,
    requires: 'lago-webhook',
    async handle({ deps, request }) {
      if (!deps.webhooks.lago) throw new TallyError('ROUTE_NOT_FOUND', 'This route needs the `webhooks.lago` option');
      return deps.webhooks.lago(request);
    },
  }),
]);

function knownProvider(deps: RouteDeps, provider: string): void {
  if (!deps.byokProviders.includes(provider)) {
    throw new TallyError('NOT_FOUND', `Provider "${provider}" takes no keys here (${deps.byokProviders.join(', ')})`, {
      details: { provider },
    });
  }
}
