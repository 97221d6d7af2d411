/**
 * zod schemas of every request and response of the HTTP API: the handler validates with them, the
 * OpenAPI document is generated from them, and schemas.test-d.ts keeps them equal to wire.ts. Objects
 * are strict: an unknown field is a 400, and a response can't carry a field the contract lacks.
 */
import { z } from 'zod';
import * as ex from './examples.js';

/** Micros, cents and nano-USD travel as decimal strings of integers. */
export const INTEGER_STRING = /^-?\d{1,30}$/;
/** Ids in paths and bodies: 1-255 visible ASCII characters (the ledger's own rule). */
const ID = /^[\x21-\x7e]{1,255}$/;
const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const integer = (description: string, example: string) =>
  z.string().regex(INTEGER_STRING, 'must be a decimal string of an integer').meta({ description, example });
const time = (description: string, example = '2026-11-26T09:00:00.000Z') => z.iso.datetime().meta({ description, example });
const id = (description: string, example: string) =>
  z.string().regex(ID, 'must be 1-255 visible ASCII characters without spaces').meta({ description, example });
const slug = (description: string, example: string) =>
  z.string().regex(SLUG, 'must be a lower-case slug (a-z, 0-9, "-", "_")').meta({ description, example });
const count = (description: string, example: number) => z.number().int().min(0).meta({ description, example });

// ---- responses

export const problemSchema = z
  .strictObject({
    type: z.string().meta({ description: 'A URI naming the kind of problem', example: ex.problemExample.type }),
    title: z.string().meta({ description: 'Short summary of the kind of problem', example: ex.problemExample.title }),
    status: z.number().int().min(400).max(599).meta({ description: 'The HTTP status', example: 402 }),
    detail: z.string().meta({ description: 'What went wrong this time, for people', example: ex.problemExample.detail }),
    code: z.string().meta({ description: 'Stable error code to branch on (docs/http.md)', example: 'INSUFFICIENT_CREDITS' }),
    instance: z.string().optional().meta({ description: 'The request path', example: '/v1/subscription/change' }),
    issues: z
      .array(
        z.strictObject({
          path: z.array(z.union([z.string(), z.number()])).meta({ description: 'Where in the input', example: ['tier'] }),
          message: z.string().meta({ description: 'What is wrong there', example: 'must be a lower-case slug' }),
        }),
      )
      .optional()
      .meta({ description: 'Where the body or query failed validation', example: [{ path: ['tier'], message: 'Required' }] }),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Machine-readable context', example: { tier: 'gold' } }),
  })
  .meta({ description: 'RFC 9457 problem details with a stable `code`', example: ex.problemExample });

export const healthSchema = z
  .strictObject({
    status: z.literal('ok').meta({ description: 'Always `ok` when the handler answers', example: 'ok' }),
    time: time('The server time'),
  })
  .meta({ description: 'The handler is up', example: ex.healthExample });

export const bucketKindSchema = z
  .enum(['allowance', 'purchased', 'coupon', 'adjustment'])
  .meta({ description: 'Where credits came from; each kind is a bucket with its own expiry', example: 'allowance' });

export const bucketSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Bucket id', example: '41' }),
    kind: bucketKindSchema,
    grantedMicros: integer('Micros granted into the bucket', '20000000'),
    remainingMicros: integer('Micros left in it', '14500000'),
    expiresAt: time('When what is left expires').nullable(),
    createdAt: time('When it was granted'),
  })
  .meta({ description: 'A bucket of credits', example: ex.bucketExample });

export const balanceSchema = z
  .strictObject({
    customerId: z.string().meta({ description: 'The customer', example: 'cus_ada' }),
    tier: z.string().meta({ description: 'The customer’s tier', example: 'starter' }),
    unlimited: z.boolean().meta({ description: 'Unlimited tiers are never blocked', example: false }),
    balanceMicros: integer('Credit left, in micros (negative while in overdraft)', '14500000'),
    heldMicros: integer('Reserved by calls in flight', '250000'),
    debtMicros: integer('Usage no credit covered', '0'),
    availableMicros: integer('What a charge may take now: balance − held + overdraft', '14250000'),
    overdraftLimitMicros: integer('How far the balance may go below zero', '0'),
    buckets: z.array(bucketSchema).meta({ description: 'Live buckets, soonest expiry first', example: [ex.bucketExample] }),
    allowance: z
      .strictObject({
        grantedMicros: integer('Allowance granted this period', '20000000'),
        remainingMicros: integer('Allowance left', '14500000'),
        expiresAt: time('When the period’s allowance expires').nullable(),
      })
      .nullable()
      .meta({ description: 'The current period’s allowance, for a usage meter', example: ex.balanceExample.allowance }),
  })
  .meta({ description: 'A customer’s credits', example: ex.balanceExample });

export const subscriptionStatusSchema = z
  .enum(['trialing', 'active', 'past_due', 'canceled'])
  .meta({ description: 'Subscription status', example: 'active' });

const intervalSchema = z.enum(['month', 'year']).meta({ description: 'Billing interval', example: 'month' });

export const subscriptionSchema = z
  .strictObject({
    tier: z.string().meta({ description: 'The subscribed tier', example: 'starter' }),
    status: subscriptionStatusSchema,
    interval: intervalSchema,
    currentPeriodStart: time('Start of the current period', '2026-11-02T00:00:00.000Z'),
    currentPeriodEnd: time('End of the current period', '2026-12-02T00:00:00.000Z'),
    trialEnd: time('End of the free trial').nullable(),
    scheduledChange: z
      .strictObject({
        tier: z.string().nullable().meta({ description: 'The tier at period end; null: a cancel', example: 'trial' }),
        at: time('When it takes effect', '2026-12-02T00:00:00.000Z'),
      })
      .nullable()
      .meta({ description: 'A downgrade or cancel waiting for the period end', example: null }),
    pastDueSince: time('Start of the current run of failed payments').nullable(),
  })
  .meta({ description: 'The customer’s subscription', example: ex.subscriptionExample });

export const providerBalanceSchema = z
  .strictObject({
    provider: z.string().meta({ description: 'Provider id', example: 'openrouter' }),
    source: z.enum(['byok', 'provisioned']).meta({ description: 'The customer’s own key or one the platform minted', example: 'byok' }),
    limitNanoUsd: integer('The key’s credit limit in nano-USD', '10000000000').nullable(),
    usageNanoUsd: integer('Spent against the limit', '2500000000'),
    remainingNanoUsd: integer('Left on the key; null: no limit', '7500000000').nullable(),
    low: z.boolean().meta({ description: 'Below the low-balance threshold', example: false }),
    syncedAt: time('When the provider was last asked'),
  })
  .meta({ description: 'What a provider says is left on a key', example: ex.providerBalanceExample });

export const meSchema = z
  .strictObject({
    customerId: z.string().meta({ description: 'The caller', example: 'cus_ada' }),
    tier: z
      .strictObject({
        id: z.string().meta({ description: 'Tier id', example: 'starter' }),
        name: z.string().meta({ description: 'Tier name', example: 'Starter' }),
      })
      .meta({ description: 'The caller’s tier', example: ex.meExample.tier }),
    unlimited: z.boolean().meta({ description: 'Unlimited tier', example: false }),
    subscription: subscriptionSchema.nullable(),
    balance: balanceSchema,
    providerBalances: z.array(providerBalanceSchema).meta({ description: 'Provider keys’ balances', example: [ex.providerBalanceExample] }),
  })
  .meta({ description: 'Everything a dashboard header needs about the caller', example: ex.meExample });

export const tierSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Tier id', example: 'starter' }),
    name: z.string().meta({ description: 'Tier name', example: 'Starter' }),
    priceCents: integer('Price per interval in minor units', '1900'),
    currency: z.string().meta({ description: 'ISO 4217 currency', example: 'USD' }),
    interval: intervalSchema,
    allowanceMicros: integer('Credits granted per period; null: unlimited', '20000000').nullable(),
    unlimited: z.boolean().meta({ description: 'Unlimited tier', example: false }),
    trialDays: count('Free trial days for a first subscription', 0),
    markupBps: count('Default markup on paid models, basis points', 1000),
  })
  .meta({ description: 'A tier of the catalog', example: ex.tierExample });

export const tiersSchema = z
  .strictObject({
    tiers: z.array(tierSchema).meta({ description: 'Every tier, cheapest first', example: ex.tiersExample.tiers }),
    current: z.string().meta({ description: 'The caller’s tier', example: 'starter' }),
  })
  .meta({ description: 'The catalog’s tiers', example: ex.tiersExample });

export const tierChangePreviewSchema = z
  .strictObject({
    from: z.string().meta({ description: 'Current tier', example: 'starter' }),
    to: z.string().meta({ description: 'Target tier', example: 'professional' }),
    direction: z.enum(['upgrade', 'downgrade']).meta({ description: 'Up or down the catalog', example: 'upgrade' }),
    timing: z.enum(['immediate', 'period_end']).meta({ description: 'When it takes effect', example: 'immediate' }),
    effectiveAt: time('When it takes effect'),
    currency: z.string().meta({ description: 'ISO 4217 currency', example: 'USD' }),
    lines: z
      .array(
        z
          .strictObject({
            description: z.string().meta({ description: 'Invoice line text', example: 'Unused time on Starter after 17 Nov 2026' }),
            amountCents: integer('Signed amount in minor units', '-950'),
            periodStart: time('Start of the time the line pays for'),
            periodEnd: time('End of it'),
          })
          .meta({ description: 'A proration line', example: ex.tierChangePreviewExample.lines[0] }),
      )
      .meta({ description: 'Proration lines, like Stripe’s', example: ex.tierChangePreviewExample.lines }),
    totalCents: integer('Sum of the lines', '1500'),
    amountDueCents: integer('Charged now', '1500'),
    creditBalanceCents: integer('Kept as credit when the total is negative', '0'),
    creditsGrantedMicros: integer('Credits granted at once (0 when the new tier is unlimited)', '20000000'),
    newPeriod: z
      .strictObject({ start: time('New period start'), end: time('New period end') })
      .nullable()
      .meta({ description: 'Set when the change starts a new billing period', example: null }),
  })
  .meta({ description: 'What a tier change costs now and grants', example: ex.tierChangePreviewExample });

export const tierChangeResultSchema = z
  .discriminatedUnion('status', [
    z.strictObject({ status: z.literal('started'), subscription: subscriptionSchema }),
    z.strictObject({
      status: z.literal('checkout'),
      url: z.string().meta({ description: 'Hosted checkout', example: ex.checkoutExample.url }),
    }),
    z.strictObject({
      status: z.literal('charged'),
      paid: z.boolean().meta({ description: 'The charge went through', example: true }),
      amountDueCents: integer('What the invoice asked for', '1500'),
      hostedInvoiceUrl: z.string().nullable().meta({ description: 'Where to pay when it did not', example: null }),
    }),
    z.strictObject({
      status: z.literal('payment_method_required'),
      url: z.string().meta({ description: 'Where to add a card', example: 'https://billing.example.com/p/123' }),
    }),
    z.strictObject({ status: z.literal('scheduled'), effectiveAt: time('When it takes effect'), subscription: subscriptionSchema }),
  ])
  .meta({ description: 'What a tier change did: started, needs checkout, charged, or scheduled', example: ex.tierChangeResultExample });

export const entryKindSchema = z
  .enum(['grant', 'spend', 'capture', 'usage', 'expire', 'adjust', 'clawback'])
  .meta({ description: 'Ledger entry kind', example: 'usage' });

export const entrySchema = z
  .strictObject({
    id: z.string().meta({ description: 'Entry id', example: '1207' }),
    operationId: z.string().meta({ description: 'The operation that wrote it', example: '311' }),
    kind: entryKindSchema,
    amountMicros: integer('Signed, from the customer’s side', '-4125'),
    description: z.string().nullable().meta({ description: 'Free text', example: null }),
    bucketKind: bucketKindSchema.nullable(),
    usage: z
      .strictObject({
        model: z.string().meta({ description: 'Model id', example: 'openai/gpt-4o-mini' }),
        inputTokens: integer('Prompt tokens', '1200'),
        cachedInputTokens: integer('Cached prompt tokens', '0'),
        outputTokens: integer('Completion tokens', '350'),
        reasoningTokens: integer('Reasoning tokens', '0'),
        providerCostNanoUsd: integer('What the provider charged, nano-USD', '390000'),
        markupBps: count('Markup applied, basis points', 1000),
        keySource: z.enum(['managed', 'byok']).meta({ description: 'Whose provider key ran the call', example: 'managed' }),
      })
      .nullable()
      .meta({ description: 'The metered call, when the entry is one', example: ex.entryExample.usage }),
    createdAt: time('When it was written'),
  })
  .meta({ description: 'A ledger entry', example: ex.entryExample });

const page = <T extends z.ZodType>(item: T, description: string, example: unknown) =>
  z
    .strictObject({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last', example: null }),
    })
    .meta({ description, example: { items: [example], nextCursor: null } });

export const entryPageSchema = page(entrySchema, 'A page of ledger entries, newest first', ex.entryExample);

export const usageSchema = z
  .strictObject({
    from: time('Inclusive start', ex.usageExample.from),
    to: time('Exclusive end', ex.usageExample.to),
    groupBy: z.enum(['model', 'day']).meta({ description: 'How rows are grouped', example: 'model' }),
    rows: z
      .array(
        z.strictObject({
          key: z.string().meta({ description: 'Model id, or UTC day `YYYY-MM-DD`', example: 'openai/gpt-4o-mini' }),
          calls: count('Charges (operations)', 42),
          inputTokens: integer('Prompt tokens', '50400'),
          outputTokens: integer('Completion tokens', '14700'),
          chargedMicros: integer('Credits charged', '173250'),
          providerCostNanoUsd: integer('Provider cost', '16380000'),
        }),
      )
      .meta({ description: 'One row per model or day', example: ex.usageExample.rows }),
    totalChargedMicros: integer('Sum of the rows', '173250'),
  })
  .meta({ description: 'Usage over a time range', example: ex.usageExample });

export const couponBenefitSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('credits'),
      amountMicros: integer('Credits granted', '10000000'),
      expiresInDays: z.number().int().min(1).nullable().meta({ description: 'Days the credits last; null: no expiry', example: 30 }),
    }),
    z.strictObject({
      kind: z.literal('percent_off'),
      percentOffBps: z.number().int().min(1).max(10_000).meta({ description: 'Basis points off invoices', example: 2000 }),
      durationPeriods: z.number().int().min(1).meta({ description: 'Billing periods it applies to', example: 3 }),
    }),
  ])
  .meta({ description: 'What a coupon gives', example: ex.couponExample.benefit });

export const redemptionSchema = z
  .strictObject({
    code: z.string().meta({ description: 'Coupon code', example: 'WELCOME10' }),
    benefit: couponBenefitSchema,
    grantedMicros: integer('Credits granted; null for a discount', '10000000').nullable(),
    redeemedAt: time('When'),
  })
  .meta({ description: 'A redeemed coupon', example: ex.redemptionExample });

export const creditPackSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Pack id', example: 'credits-10' }),
    name: z.string().meta({ description: 'Pack name', example: '10 credits' }),
    priceCents: integer('Price in minor units', '1000'),
    currency: z.string().meta({ description: 'ISO 4217 currency', example: 'USD' }),
    creditsMicros: integer('Credits it adds', '10000000'),
  })
  .meta({ description: 'A one-time credit purchase', example: ex.creditPackExample });

export const creditPacksSchema = z.array(creditPackSchema).meta({ description: 'Every credit pack', example: [ex.creditPackExample] });

export const autoRechargeSchema = z
  .strictObject({
    enabled: z.boolean().meta({ description: 'On or off', example: true }),
    thresholdMicros: integer('Recharge when available credit falls below this', '2000000'),
    packId: z.string().meta({ description: 'The pack bought', example: 'credits-10' }),
    maxPerMonth: z.number().int().min(1).max(100).meta({ description: 'At most this many recharges a month', example: 3 }),
  })
  .meta({ description: 'Automatic top-up settings', example: ex.autoRechargeExample });

export const spendCapSchema = z
  .strictObject({
    scope: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('customer') }),
        z.strictObject({
          kind: z.literal('end-user'),
          endUserId: z.string().meta({ description: 'End user or API key', example: 'key_7' }),
        }),
        z.strictObject({ kind: z.literal('each-end-user') }),
      ])
      .meta({ description: 'What the cap applies to', example: { kind: 'customer' } }),
    dailyMicros: integer('Cap per UTC day; null: none', '5000000').nullable(),
    monthlyMicros: integer('Cap per UTC month; null: none', '50000000').nullable(),
    usedTodayMicros: integer('Charged today', '1250000'),
    usedThisMonthMicros: integer('Charged this month', '18000000'),
    heldMicros: integer('Held by calls in flight', '0'),
  })
  .meta({ description: 'A spend cap and what it has used', example: ex.spendCapExample });

export const spendCapsSchema = z.array(spendCapSchema).meta({ description: 'Every capped scope', example: [ex.spendCapExample] });

export const byokKeySchema = z
  .strictObject({
    provider: z.string().meta({ description: 'Provider id', example: 'openrouter' }),
    last4: z.string().meta({ description: 'Last 4 characters of the key', example: 'x9Qz' }),
    keyId: z.string().meta({ description: 'The vault key it is sealed with', example: 'k2026' }),
    createdAt: time('First stored'),
    updatedAt: time('Last replaced'),
  })
  .meta({ description: 'A stored provider key (never the secret)', example: ex.byokKeyExample });

export const byokKeysSchema = z.array(byokKeySchema).meta({ description: 'The caller’s provider keys', example: [ex.byokKeyExample] });

export const byokRemovedSchema = z
  .strictObject({
    provider: z.string().meta({ description: 'Provider id', example: 'openrouter' }),
    removed: z.boolean().meta({ description: 'False when no key was stored', example: true }),
  })
  .meta({ description: 'A removed provider key', example: ex.byokRemovedExample });

export const notificationPreferencesSchema = z
  .strictObject({
    categories: z
      .array(
        z.strictObject({
          id: z.string().meta({ description: 'Category id', example: 'low_balance' }),
          enabled: z.boolean().meta({ description: 'Mail is sent', example: true }),
          required: z.boolean().meta({ description: 'Transactional: cannot be turned off', example: false }),
          reason: z.string().nullable().meta({ description: 'Why it is required', example: null }),
        }),
      )
      .meta({ description: 'Every category', example: ex.notificationPreferencesExample.categories }),
  })
  .meta({ description: 'Email notification preferences', example: ex.notificationPreferencesExample });

export const checkoutSchema = z
  .strictObject({ url: z.string().meta({ description: 'Where to send the customer', example: ex.checkoutExample.url }) })
  .meta({ description: 'A hosted page', example: ex.checkoutExample });

export const adminCustomerSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Customer id', example: 'cus_ada' }),
    tier: z.string().meta({ description: 'Tier', example: 'starter' }),
    unlimited: z.boolean().meta({ description: 'Unlimited tier', example: false }),
    createdAt: time('First seen'),
    subscriptionStatus: subscriptionStatusSchema.nullable(),
  })
  .meta({ description: 'A customer, for admins', example: ex.adminCustomerExample });

export const adminCustomerPageSchema = page(adminCustomerSchema, 'A page of customers, by id', ex.adminCustomerExample);

export const adminCustomerDetailSchema = z
  .strictObject({ customer: adminCustomerSchema, balance: balanceSchema, subscription: subscriptionSchema.nullable() })
  .meta({ description: 'A customer with balance and subscription', example: ex.adminCustomerDetailExample });

export const ledgerOperationSchema = z
  .strictObject({
    operationId: z.string().meta({ description: 'Operation id', example: '312' }),
    replayed: z.boolean().meta({ description: 'The Idempotency-Key was used before: nothing changed now', example: false }),
    entries: z.array(entrySchema).meta({ description: 'What it wrote', example: ex.ledgerOperationExample.entries }),
    balance: balanceSchema,
  })
  .meta({ description: 'What a grant or adjustment did', example: ex.ledgerOperationExample });

export const couponSchema = z
  .strictObject({
    code: z.string().meta({ description: 'Code, upper-case', example: 'WELCOME10' }),
    benefit: couponBenefitSchema,
    maxRedemptions: z.number().int().min(1).nullable().meta({ description: 'Total allowed; null: unlimited', example: 1000 }),
    expiresAt: time('Redeemable before this').nullable(),
    tiers: z.array(z.string()).meta({ description: 'Tiers that may redeem it; empty: all', example: [] }),
    redemptions: count('Redeemed so far', 17),
    active: z.boolean().meta({ description: 'Redeemable at all', example: true }),
    createdAt: time('Created'),
  })
  .meta({ description: 'A coupon', example: ex.couponExample });

export const couponsSchema = z.array(couponSchema).meta({ description: 'Coupons, newest first', example: [ex.couponExample] });

export const auditReportSchema = z
  .strictObject({
    ok: z.boolean().meta({ description: 'Every invariant holds', example: true }),
    customers: count('Customers checked', 120),
    entries: count('Entries checked', 48211),
    buckets: count('Buckets checked', 513),
    holds: count('Holds checked', 2210),
    totalMicros: integer('Sum over all accounts: always 0 in a sound journal', '0'),
    systemBalances: z
      .record(z.string(), integer('Balance', '0'))
      .meta({ description: 'System accounts’ balances', example: ex.auditReportExample.systemBalances }),
    issues: z
      .array(
        z.strictObject({
          code: z.string().meta({ description: 'Invariant', example: 'BALANCE_MISMATCH' }),
          subject: z.string().meta({ description: 'Customer, bucket or account', example: 'customer:cus_ada' }),
          expected: z.string().meta({ description: 'From the journal', example: '100' }),
          actual: z.string().meta({ description: 'Stored', example: '90' }),
        }),
      )
      .meta({ description: 'What failed', example: [] }),
  })
  .meta({ description: 'The ledger audit', example: ex.auditReportExample });

export const outboxMessageSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Message id', example: '977' }),
    topic: z.string().meta({ description: 'Topic', example: 'subscription.updated' }),
    dedupeKey: z.string().meta({ description: 'Dedupe key', example: 'subscription.updated:cus_ada:7' }),
    attempts: count('Delivery attempts', 8),
    createdAt: time('Enqueued'),
    lastError: z.string().nullable().meta({ description: 'Why the last attempt failed', example: 'Lago answered 503' }),
    dead: z.boolean().meta({ description: 'Given up on', example: true }),
  })
  .meta({ description: 'An outbox message', example: ex.outboxMessageExample });

export const outboxMessagesSchema = z
  .array(outboxMessageSchema)
  .meta({ description: 'Dead letters, oldest first', example: [ex.outboxMessageExample] });

export const outboxRetriedSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Message id', example: '977' }),
    retried: z.literal(true).meta({ description: 'Queued again', example: true }),
  })
  .meta({ description: 'A dead letter queued again', example: ex.outboxRetriedExample });

export const webhookAckSchema = z
  .looseObject({ received: z.boolean().meta({ description: 'The event was taken', example: true }) })
  .meta({ description: 'The provider handler’s answer (its own shape)', example: { received: true, applied: true, stale: false } });

export const openApiDocumentSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'The OpenAPI 3.1 document of this API', example: { openapi: '3.1.1', info: { title: 'Tally', version: '1' } } });

// ---- requests: bodies (what the client sends, exactly wire.ts's input types)

export const emptyBodySchema = z.strictObject({}).meta({ description: 'No fields (an empty body is fine too)', example: {} });

export const tierRequestSchema = z
  .strictObject({ tier: slug('The target tier', 'professional') })
  .meta({ description: 'A tier to preview or change to', example: { tier: 'professional' } });

export const portalRequestSchema = z
  .strictObject({
    returnUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .meta({
        description: 'Where to come back to (an allowed origin)',
        example: 'https://app.example.com/billing',
      }),
  })
  .meta({ description: 'Options of the payment-method portal', example: { returnUrl: 'https://app.example.com/billing' } });

export const redeemRequestSchema = z
  .strictObject({
    code: z
      .string()
      .regex(/^\s*[A-Za-z0-9][A-Za-z0-9_-]{2,39}\s*$/, 'must be 3-40 letters, digits, "-" or "_"')
      .meta({
        description: 'Coupon code (case-insensitive)',
        example: 'WELCOME10',
      }),
  })
  .meta({ description: 'A coupon to redeem', example: { code: 'WELCOME10' } });

export const autoRechargeInputSchema = autoRechargeSchema.meta({
  description: 'Automatic top-up settings to save',
  example: ex.autoRechargeExample,
});

export const spendCapInputSchema = z
  .strictObject({
    endUserId: z
      .string()
      .regex(ID, 'must be 1-255 visible ASCII characters without spaces')
      .optional()
      .meta({ description: 'Omitted: the customer’s total; "*": each end user without a cap of its own', example: 'key_7' }),
    dailyMicros: integer('Cap per UTC day; null: none', '5000000').nullable(),
    monthlyMicros: integer('Cap per UTC month; null: none', '50000000').nullable(),
  })
  .meta({ description: 'A spend cap to set (both null: remove it)', example: { dailyMicros: '5000000', monthlyMicros: '50000000' } });

export const byokKeyInputSchema = z
  .strictObject({
    apiKey: z.string().min(1).max(8192).meta({ description: 'The provider key (write-only)', example: 'sk-or-v1-…x9Qz' }),
  })
  .meta({ description: 'A provider key to store', example: { apiKey: 'sk-or-v1-…x9Qz' } });

export const notificationPreferencesInputSchema = z
  .strictObject({
    categories: z
      .array(
        z.strictObject({
          id: z.string().min(1).max(64).meta({ description: 'Category id', example: 'low_balance' }),
          enabled: z.boolean().meta({ description: 'Send or not', example: false }),
        }),
      )
      .max(64)
      .meta({ description: 'Categories to change; others stay', example: [{ id: 'low_balance', enabled: false }] }),
  })
  .meta({ description: 'Preference changes', example: { categories: [{ id: 'low_balance', enabled: false }] } });

export const grantInputSchema = z
  .strictObject({
    kind: bucketKindSchema.optional(),
    amountMicros: integer('Positive micros', '5000000'),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional().meta({ description: 'When it expires; null: never', example: null }),
    description: z.string().max(500).optional().meta({ description: 'Shown in the history', example: 'Goodwill for the outage' }),
  })
  .meta({ description: 'Credits to grant', example: ex.grantInputExample });

export const adjustInputSchema = z
  .strictObject({
    amountMicros: integer('Signed, non-zero micros', '-2000000'),
    reason: z.string().min(1).max(500).meta({ description: 'Why (required, audited)', example: 'Refunded the October overcharge' }),
  })
  .meta({ description: 'A correction', example: ex.adjustInputExample });

export const couponInputSchema = z
  .strictObject({
    code: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$/, 'must be 3-40 letters, digits, "-" or "_"')
      .meta({
        description: 'Code; stored upper-case',
        example: 'WELCOME10',
      }),
    benefit: couponBenefitSchema,
    maxRedemptions: z.number().int().min(1).nullable().optional().meta({ description: 'Total allowed; null: unlimited', example: 1000 }),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional().meta({ description: 'Redeemable before', example: null }),
    tiers: z.array(slug('Tier id', 'starter')).max(100).optional().meta({ description: 'Tiers that may redeem it', example: [] }),
  })
  .meta({ description: 'A coupon to create', example: ex.couponInputExample });

export const couponUpdateSchema = z
  .strictObject({ active: z.boolean().meta({ description: 'Redeemable or not', example: false }) })
  .meta({ description: 'A coupon change', example: { active: false } });

// ---- requests: queries (strings in, parsed values out) and path parameters

const limitParam = z
  .string()
  .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1).max(100))
  .meta({ description: 'Page size, 1-100 (default 50)', example: '50' });
const cursorParam = id('The previous page’s `nextCursor`', '1180');

export const emptyQuerySchema = z.strictObject({}).meta({ description: 'No query parameters', example: {} });

export const usageQuerySchema = z
  .strictObject({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Inclusive start (default 30 days before `to`)', example: '2026-10-27T00:00:00Z' }),
    to: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Exclusive end (default: the start of tomorrow, UTC)', example: '2026-11-26T00:00:00Z' }),
    groupBy: z.enum(['model', 'day']).optional().meta({ description: 'Rows per model (default) or per UTC day', example: 'model' }),
  })
  .meta({ description: 'A usage range', example: { groupBy: 'day' } });

export const transactionsQuerySchema = z
  .strictObject({
    cursor: cursorParam.optional(),
    kind: z
      .string()
      .regex(/^[a-z]+(,[a-z]+){0,6}$/, 'must be entry kinds separated by commas')
      .transform((value) => value.split(','))
      .pipe(z.array(entryKindSchema))
      .optional()
      .meta({ description: 'Entry kinds, comma-separated', example: 'spend,usage' }),
    limit: limitParam.optional(),
  })
  .meta({ description: 'A page of the history', example: { limit: '20' } });

export const listQuerySchema = z
  .strictObject({ limit: limitParam.optional() })
  .meta({ description: 'A list size', example: { limit: '50' } });

export const adminCustomersQuerySchema = z
  .strictObject({
    search: z.string().min(1).max(100).optional().meta({ description: 'Part of the customer id, any case', example: 'ada' }),
    cursor: cursorParam.optional(),
    limit: limitParam.optional(),
  })
  .meta({ description: 'A page of customers', example: { search: 'ada', limit: '20' } });

export const customerIdParams = z.strictObject({ id: id('Customer id', 'cus_ada') });
export const providerParams = z.strictObject({ provider: slug('Provider id', 'openrouter') });
export const packParams = z.strictObject({ packId: slug('Credit pack id', 'credits-10') });
export const couponParams = z.strictObject({
  code: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$/, 'must be a coupon code')
    .meta({ description: 'Coupon code', example: 'WELCOME10' }),
});
export const outboxParams = z.strictObject({ id: id('Outbox message id', '977') });

// ---- emails (admin) and unsubscribe (public)

export const emailTemplateIdSchema = z
  .enum([
    'welcome',
    'low_balance',
    'monthly_reset',
    'coupon_redeemed',
    'tier_upgraded',
    'tier_downgraded',
    'payment_failed',
    'analytics_report',
  ])
  .meta({ description: 'Email template id', example: 'low_balance' });

export const emailTemplatesSchema = z
  .strictObject({
    templates: z.array(
      z.strictObject({
        id: emailTemplateIdSchema,
        category: z.string().nullable().meta({
          description: 'The preference category that decides whether it is sent; null for an admin mail (no customer, no unsubscribe)',
          example: 'low_balance',
        }),
        required: z.boolean().meta({ description: 'Transactional: sent even when the customer opted out of everything', example: false }),
        description: z
          .string()
          .meta({ description: 'When the mail goes out', example: ex.emailTemplatesExample.templates[0]?.description }),
      }),
    ),
  })
  .meta({ description: 'Every email template', example: ex.emailTemplatesExample });

const locale = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 language tag')
  .meta({ description: 'BCP 47 language tag; unknown ones fall back to English', example: 'en' });

export const emailPreviewSchema = z
  .strictObject({
    template: emailTemplateIdSchema,
    locale: locale,
    subject: z.string().meta({ description: 'Subject line', example: ex.emailPreviewExample.subject }),
    html: z.string().meta({ description: 'The whole HTML document', example: ex.emailPreviewExample.html }),
    text: z.string().meta({ description: 'The plain-text part', example: ex.emailPreviewExample.text }),
  })
  .meta({ description: 'A template rendered with sample data', example: ex.emailPreviewExample });

export const emailDeliverySchema = z
  .strictObject({
    id: z.string().meta({ description: 'Log line id', example: '311' }),
    dedupeKey: z.string().meta({ description: 'The logical mail; retries repeat it', example: ex.emailDeliveryExample.dedupeKey }),
    customerId: z.string().nullable().meta({ description: 'Null for a test send', example: 'cus_ada' }),
    template: emailTemplateIdSchema,
    to: z.string().nullable().meta({ description: 'Recipient address; null when there was none', example: 'ada@example.com' }),
    subject: z
      .string()
      .nullable()
      .meta({ description: 'Subject line; null when nothing was rendered', example: ex.emailDeliveryExample.subject }),
    status: z.enum(['sent', 'failed', 'suppressed']).meta({ description: 'What happened', example: 'sent' }),
    suppression: z
      .enum(['preference', 'no_recipient'])
      .nullable()
      .meta({ description: 'Why a suppressed mail was not sent', example: null }),
    attempt: z.number().int().min(1).meta({ description: '1 for the first try; more marks a retry', example: 1 }),
    error: z.string().nullable().meta({ description: 'The transport’s error, for a failed try', example: null }),
    transport: z.string().nullable().meta({ description: 'Which transport sent it', example: 'smtp' }),
    messageId: z.string().nullable().meta({ description: 'The transport’s message id', example: ex.emailDeliveryExample.messageId }),
    test: z.boolean().meta({ description: 'An admin’s test send', example: false }),
    at: time('When it happened'),
  })
  .meta({ description: 'One line of the email delivery log', example: ex.emailDeliveryExample });

export const emailDeliveryPageSchema = page(emailDeliverySchema, 'A page of the delivery log, newest first', ex.emailDeliveryExample);

export const emailTestResultSchema = z
  .strictObject({ delivery: emailDeliverySchema })
  .meta({ description: 'The test send, as logged', example: { delivery: { ...ex.emailDeliveryExample, customerId: null, test: true } } });

export const emailTestInputSchema = z
  .strictObject({
    template: emailTemplateIdSchema,
    to: z.email().max(254).meta({ description: 'Where to send the test', example: 'ops@example.com' }),
    locale: locale.optional(),
  })
  .meta({ description: 'A test send of a template with sample data', example: ex.emailTestInputExample });

export const emailTemplateParams = z.strictObject({ template: emailTemplateIdSchema });

export const emailPreviewQuerySchema = z
  .strictObject({
    format: z
      .enum(['json', 'html', 'text'])
      .optional()
      .meta({ description: '`json` (default): subject, HTML and text; `html` or `text`: that part alone', example: 'html' }),
    locale: locale.optional(),
  })
  .meta({ description: 'How to answer', example: { format: 'html' } });

export const emailLogQuerySchema = z
  .strictObject({
    customerId: id('Only this customer’s mails', 'cus_ada').optional(),
    status: z.enum(['sent', 'failed', 'suppressed']).optional().meta({ description: 'Only this outcome', example: 'failed' }),
    template: emailTemplateIdSchema.optional(),
    cursor: cursorParam.optional(),
    limit: limitParam.optional(),
  })
  .meta({ description: 'A page of the delivery log', example: { status: 'failed', limit: '20' } });

export const unsubscribeQuerySchema = z
  .strictObject({
    token: z
      .string()
      .min(1)
      .max(2048)
      .meta({ description: 'The signed token from the email’s unsubscribe link', example: 'eyJ2IjoxfQ.c2lnbmF0dXJl' }),
  })
  .meta({ description: 'The unsubscribe link’s token', example: { token: 'eyJ2IjoxfQ.c2lnbmF0dXJl' } });

export const unsubscribeResultSchema = z
  .strictObject({
    category: z.string().meta({ description: 'The category turned off', example: 'low_balance' }),
    unsubscribed: z.literal(true).meta({ description: 'Always true', example: true }),
  })
  .meta({ description: 'The category is off for this customer', example: { category: 'low_balance', unsubscribed: true } });

// ---- admin: analytics (docs/analytics.md). Every metric has its own route and response schema.

const bps = (description: string, example: number | null) =>
  z
    .number()
    .int()
    .nullable()
    .meta({ description: `${description}, in basis points (null when the base is 0)`, example });
const bucketFields = { start: time('Start of the bucket (inclusive)'), end: time('End of the bucket (exclusive)') };
const callCounts = (description: string) =>
  z
    .strictObject({ calls: count('Calls', 12), tokens: integer('Input plus output tokens', '48210') })
    .meta({ description, example: { calls: 12, tokens: '48210' } });
const metricHead = <M extends string>(metric: M) => ({
  metric: z.literal(metric).meta({ description: 'The metric', example: metric }),
  from: time('Start of the range (inclusive)', '2026-08-03T00:00:00.000Z'),
  to: time('End of the range (exclusive)', '2026-11-01T00:00:00.000Z'),
  granularity: z.enum(['day', 'week', 'month']).meta({ description: 'How the range is cut', example: 'month' }),
});

export const metricQuerySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).meta({ description: 'Start of the range, inclusive', example: '2026-08-01T00:00:00Z' }),
    to: z.iso
      .datetime({ offset: true })
      .meta({ description: 'End of the range, exclusive (at most 3,660 days after `from`)', example: '2026-11-01T00:00:00Z' }),
    granularity: z
      .enum(['day', 'week', 'month'])
      .optional()
      .meta({ description: 'Bucket size, UTC (default `day`; weeks start on Monday)', example: 'month' }),
    format: z.enum(['json', 'csv', 'pdf']).optional().meta({
      description: '`json` (default); `csv`: one table as RFC 4180 text/csv; `pdf`: the whole report (needs the handler’s `renderPdf`)',
      example: 'json',
    }),
    table: z
      .string()
      .regex(/^\d{1,2}$/, 'must be a table number')
      .transform(Number)
      .optional()
      .meta({ description: 'With `format=csv`: which of the report’s tables, from 0 (default 0)', example: '0' }),
  })
  .meta({
    description: 'A metric over a range',
    example: { from: '2026-08-01T00:00:00Z', to: '2026-11-01T00:00:00Z', granularity: 'month' },
  });

export const topCustomersQuerySchema = metricQuerySchema
  .extend({
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .pipe(z.number().int().min(1).max(100))
      .optional()
      .meta({ description: 'How many customers, 1-100 (default 10)', example: '10' }),
  })
  .meta({ description: 'Top customers over a range', example: { from: '2026-08-01T00:00:00Z', to: '2026-11-01T00:00:00Z', limit: '10' } });

export const customersMetricSchema = z
  .strictObject({
    ...metricHead('customers'),
    points: z.array(
      z.strictObject({
        ...bucketFields,
        signUps: count('Customers created in the bucket', 14),
        active: count('Customers with at least one call in the bucket', 180),
        total: count('Customers created before the bucket’s end', 252),
      }),
    ),
  })
  .meta({ description: 'Customer growth per bucket', example: ex.customersMetricExample });

const mrrMoney = (description: string, example: string) => integer(`${description} (minor units of the catalog currency)`, example);

export const mrrMetricSchema = z
  .strictObject({
    ...metricHead('mrr'),
    points: z.array(
      z.strictObject({
        ...bucketFields,
        mrrAtStart: mrrMoney('MRR at the bucket’s start', '812300'),
        mrr: mrrMoney('MRR at the bucket’s end', '845600'),
        arr: mrrMoney('12 × MRR', '10147200'),
        new: mrrMoney('From customers with no MRR before the bucket', '39900'),
        expansion: mrrMoney('From upgrades', '9000'),
        contraction: mrrMoney('From downgrades', '3000'),
        churn: mrrMoney('From customers whose MRR went to 0', '12600'),
        reactivation: mrrMoney('From customers who had MRR before, had none at the start, and have some at the end', '0'),
        net: mrrMoney('mrr − mrrAtStart', '33300'),
        growthBps: bps('net over mrrAtStart', 410),
      }),
    ),
  })
  .meta({ description: 'MRR and ARR with their movements per bucket', example: ex.mrrMetricExample });

export const churnMetricSchema = z
  .strictObject({
    ...metricHead('churn'),
    points: z.array(
      z.strictObject({
        ...bucketFields,
        payingAtStart: count('Customers with MRR at the bucket’s start', 120),
        churnedCustomers: count('Of those, the ones with none at its end', 3),
        logoChurnBps: bps('churned over paying at start', 250),
        mrrAtStart: mrrMoney('MRR at the bucket’s start', '812300'),
        lostMrr: mrrMoney('Churned plus contracted MRR', '15600'),
        revenueChurnBps: bps('lost over MRR at start', 192),
      }),
    ),
  })
  .meta({ description: 'Logo and gross revenue churn per bucket', example: ex.churnMetricExample });

export const retentionMetricSchema = z
  .strictObject({
    ...metricHead('retention'),
    cohorts: z.array(
      z.strictObject({
        ...bucketFields,
        customers: count('Customers who first had MRR in this bucket', 40),
        periods: z
          .array(
            z.strictObject({
              retained: count('Cohort customers with MRR at that bucket’s end', 36),
              retainedBps: bps('retained over the cohort', 9000),
            }),
          )
          .meta({
            description: '`periods[k]`: k buckets after the cohort’s own (0 = its own)',
            example: [{ retained: 40, retainedBps: 10000 }],
          }),
      }),
    ),
  })
  .meta({ description: 'Retention cohorts', example: ex.retentionMetricExample });

export const funnelMetricSchema = z
  .strictObject({
    ...metricHead('funnel'),
    created: count('Customers created in the range', 200),
    steps: z.array(
      z.strictObject({
        tier: z.string().meta({ description: 'The tier (catalog order)', example: 'starter' }),
        customers: count('Customers who reached this tier or a later one by `to`', 120),
        conversionBps: bps('over the previous step (the first: over `created`)', 6000),
      }),
    ),
  })
  .meta({ description: 'The tier conversion funnel', example: ex.funnelMetricExample });

const costNano = (description: string, example: string) => integer(`${description} (nano-USD)`, example);

export const usageMetricSchema = z
  .strictObject({
    ...metricHead('usage'),
    heatmap: z
      .array(z.array(callCounts('One hour of the week')))
      .meta({ description: '7 rows (Monday … Sunday, UTC) of 24 hours', example: ex.usageMetricExample.heatmap }),
    byModel: z.array(
      z.strictObject({
        model: z.string().meta({ description: 'The model id', example: 'openai/gpt-4o-mini' }),
        calls: count('Calls', 812),
        tokens: integer('Input plus output tokens', '2981400'),
        providerCostNanoUsd: costNano('What the calls cost at the provider', '1032480000'),
        creditsMicros: integer('Credits the calls charged', '1135728'),
      }),
    ),
    split: z.strictObject({
      free: callCounts('Calls of free models'),
      paid: callCounts('Calls of paid models'),
      byok: callCounts('Calls on customers’ own keys'),
      managed: callCounts('Calls on the platform’s key'),
    }),
    series: z.array(z.strictObject({ ...bucketFields, calls: count('Calls', 412), tokens: integer('Tokens', '1512000') })),
  })
  .meta({ description: 'API usage patterns', example: ex.usageMetricExample });

const marginLine = {
  calls: count('Calls', 812),
  creditsMicros: integer('Credits the calls charged', '1135728'),
  revenueNanoUsd: costNano('Those credits in USD', '1135728000'),
  costNanoUsd: costNano('What the calls cost the platform (BYOK calls: 0)', '1032480000'),
  marginNanoUsd: costNano('Revenue − cost', '103248000'),
  marginBps: bps('margin over revenue', 909),
};

export const marginMetricSchema = z
  .strictObject({
    ...metricHead('margin'),
    total: z.strictObject(marginLine),
    byModel: z.array(
      z.strictObject({ model: z.string().meta({ description: 'The model id', example: 'openai/gpt-4o-mini' }), ...marginLine }),
    ),
    byTier: z.array(
      z.strictObject({ tier: z.string().meta({ description: 'The customer’s tier at the call', example: 'starter' }), ...marginLine }),
    ),
    byCustomer: z.array(
      z.strictObject({ customerId: z.string().meta({ description: 'The customer', example: 'cus_ada' }), ...marginLine }),
    ),
  })
  .meta({
    description: 'Cost, revenue and margin by model, tier and customer (the 100 with the most revenue)',
    example: ex.marginMetricExample,
  });

export const utilizationMetricSchema = z
  .strictObject({
    ...metricHead('utilization'),
    tiers: z.array(
      z.strictObject({
        tier: z.string().meta({ description: 'The tier at the grant', example: 'starter' }),
        grantedMicros: integer('Allowance granted in the range', '400000000'),
        consumedMicros: integer('What charges drew from it before `to`', '231400000'),
        expiredMicros: integer('What expired of it before `to`', '98000000'),
        utilizationBps: bps('consumed over granted', 5785),
      }),
    ),
  })
  .meta({ description: 'Allowance utilization per tier', example: ex.utilizationMetricExample });

export const topCustomersMetricSchema = z
  .strictObject({
    ...metricHead('top-customers'),
    customers: z.array(
      z.strictObject({
        customerId: z.string().meta({ description: 'The customer', example: 'cus_ada' }),
        tier: z.string().meta({ description: 'The customer’s tier now', example: 'professional' }),
        creditsMicros: integer('Credits charged in the range', '48210000'),
        calls: count('Calls in the range', 911),
        providerCostNanoUsd: costNano('Provider cost of those calls', '41300000000'),
      }),
    ),
  })
  .meta({ description: 'The customers with the most credits charged', example: ex.topCustomersMetricExample });
