import { TallyError, type TierChangePreview } from '@tally/core';
import type Stripe from 'stripe';
import { stripeCall } from './errors.js';
import { tierItem } from './webhooks.js';

type LineKind = TierChangePreview['lines'][number]['kind'];

export interface CompareProrationPreviewInput {
  stripe: Stripe;
  providerSubscriptionId: string;
  /** The tier the subscription moves to. */
  tier: string;
  /** Tier id → Stripe price id, as given to `createStripeProvider`. */
  prices: Record<string, string>;
  /** The change time Tally's preview used; sent to Stripe as `proration_date`. */
  prorationDate: Date;
  /** Tally's `previewTierChange` result for the same change. */
  preview: TierChangePreview;
  /** Largest difference per line still counted as a match. Default 1 cent: Stripe's rounding is undocumented. */
  toleranceCents?: bigint;
}

export interface ProrationComparisonLine {
  kind: LineKind;
  tallyCents: bigint;
  stripeCents: bigint;
  /** Stripe − Tally. */
  differenceCents: bigint;
  description: string;
}

export interface ProrationComparison {
  /** Every line within the tolerance. */
  matches: boolean;
  lines: ProrationComparisonLine[];
  tallyTotalCents: bigint;
  stripeTotalCents: bigint;
}

const KINDS: readonly LineKind[] = ['unused_time', 'remaining_time', 'new_period'];

function lineProration(line: Stripe.InvoiceLineItem): boolean | null {
  const parent = line.parent;
  if (parent?.subscription_item_details) return parent.subscription_item_details.proration;
  if (parent?.invoice_item_details) return parent.invoice_item_details.proration;
  return null;
}

/**
 * Asks Stripe for the invoice a tier change would produce (`invoices.createPreview` with
 * `always_invoice` at `prorationDate`) and compares its proration lines with Tally's preview, line
 * by line: Stripe's credit lines against Tally's unused time, its debit lines against the remaining
 * time, and a period billed from the change date against Tally's new period. Works against a
 * test-mode account as well as against the fake.
 */
export async function compareProrationPreview(input: CompareProrationPreviewInput): Promise<ProrationComparison> {
  const { stripe, preview } = input;
  const tolerance = input.toleranceCents ?? 1n;
  if (tolerance < 0n) throw new TallyError('VALIDATION', 'toleranceCents must not be negative');
  if (preview.to !== input.tier) {
    throw new TallyError('VALIDATION', `The preview is for tier "${preview.to}", not "${input.tier}"`, { details: { tier: input.tier } });
  }
  const seconds = Math.floor(input.prorationDate.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new TallyError('VALIDATION', 'Invalid proration date');
  if (preview.timing === 'immediate' && Math.floor(preview.effectiveAt.getTime() / 1000) !== seconds) {
    throw new TallyError('VALIDATION', 'The preview was computed for another time than the proration date', {
      details: { effectiveAt: preview.effectiveAt.toISOString(), prorationDate: input.prorationDate.toISOString() },
    });
  }
  const price = Object.hasOwn(input.prices, input.tier) ? input.prices[input.tier] : undefined;
  if (price === undefined) {
    throw new TallyError('UNKNOWN_TIER', `No Stripe price is configured for tier "${input.tier}"`, { details: { tier: input.tier } });
  }
  const tierByPrice = new Map(Object.entries(input.prices).map(([tier, priceId]) => [priceId, tier]));

  const subscription = await stripeCall('subscriptions.retrieve', () => stripe.subscriptions.retrieve(input.providerSubscriptionId));
  const { item } = tierItem(subscription, (priceId) => tierByPrice.get(priceId) ?? null);
  const invoice = await stripeCall('invoices.createPreview', () =>
    stripe.invoices.createPreview({
      subscription: subscription.id,
      subscription_details: {
        items: [{ id: item.id, price }],
        proration_behavior: 'always_invoice',
        proration_date: seconds,
      },
    }),
  );
  if (invoice.currency.toUpperCase() !== preview.total.currency) {
    throw new TallyError(
      'CURRENCY_MISMATCH',
      `Stripe bills in ${invoice.currency.toUpperCase()}, the preview is in ${preview.total.currency}`,
    );
  }

  const stripeLines = new Map<LineKind, Stripe.InvoiceLineItem[]>();
  for (const line of invoice.lines.data) {
    const proration = lineProration(line);
    let kind: LineKind | null = null;
    if (proration === true) kind = line.amount < 0 ? 'unused_time' : 'remaining_time';
    else if (proration === false && line.period.start === seconds) kind = 'new_period';
    if (kind !== null) stripeLines.set(kind, [...(stripeLines.get(kind) ?? []), line]);
  }

  const lines: ProrationComparisonLine[] = [];
  for (const kind of KINDS) {
    const tally = preview.lines.filter((line) => line.kind === kind);
    const fromStripe = stripeLines.get(kind) ?? [];
    if (tally.length === 0 && fromStripe.length === 0) continue;
    const tallyCents = tally.reduce((sum, line) => sum + line.amount.amount, 0n);
    const stripeCents = fromStripe.reduce((sum, line) => sum + BigInt(line.amount), 0n);
    const description = tally[0]?.description ?? fromStripe[0]?.description ?? kind;
    lines.push({ kind, tallyCents, stripeCents, differenceCents: stripeCents - tallyCents, description });
  }
  const abs = (value: bigint) => (value < 0n ? -value : value);
  return {
    matches: lines.every((line) => abs(line.differenceCents) <= tolerance),
    lines,
    tallyTotalCents: lines.reduce((sum, line) => sum + line.tallyCents, 0n),
    stripeTotalCents: lines.reduce((sum, line) => sum + line.stripeCents, 0n),
  };
}
