// Tally in a few lines: load the catalog, grant a customer their monthly credits, meter an LLM call
// priced from OpenRouter's price strings, and read the balance. The ledger runs on PGlite, the
// embedded Postgres: nothing to install. Run with `npm run demo` from the repository root.
import { parseOpenRouterPricing } from '@tally/adapters/openrouter';
import { createPGliteStore } from '@tally/adapters/pglite';
import { createTally, formatCredits, formatMoney, formatNanoUsd, previewTierChange, sampleCatalog } from '@tally/core';

const catalog = sampleCatalog;
const store = await createPGliteStore();
const tally = createTally({ catalog, store });
console.log(
  `1. Catalog ${catalog.version}: ${catalog.tiers.map((t) => `${t.name} ${formatMoney({ currency: catalog.currency, amount: t.price })}`).join(' · ')}`,
);

const starter = catalog.tiers.find((tier) => tier.id === 'starter');
if (!starter || starter.allowance === 'unlimited') throw new Error('the sample catalog has a limited starter tier');
await tally.customers.upsert({ customerId: 'acme', tier: 'starter' });
const periodEnd = new Date(Date.now() + 30 * 24 * 3600 * 1000);
const granted = await tally.grant({
  customerId: 'acme',
  kind: 'allowance',
  amountMicros: starter.allowance,
  expiresAt: periodEnd,
  idempotencyKey: 'acme:allowance:first-period',
});
console.log(
  `2. Granted acme (Starter) its monthly allowance: ${formatCredits(granted.bucket.grantedMicros)} credits, expiring ${periodEnd.toISOString().slice(0, 10)}`,
);

// Prices as OpenRouter's GET /models returns them (USD per token, decimal strings), parsed exactly.
const pricing = parseOpenRouterPricing({ prompt: '0.0000025', completion: '0.00001' });
if (pricing.kind !== 'fixed') throw new Error('expected a fixed price');
const { priced } = await tally.meter({
  customerId: 'acme',
  model: 'openai/gpt-4o',
  usage: { inputTokens: 1_850, outputTokens: 420 },
  price: pricing.price,
  idempotencyKey: 'acme:call:1',
});
console.log(
  `3. Metered a call: openai/gpt-4o, 1,850 in + 420 out tokens → provider cost $${formatNanoUsd(priced.providerCostNanoUsd)}, ` +
    `markup ${priced.markupBps / 100} % → ${formatCredits(priced.chargeMicros, { maxFractionDigits: 6 })} credits`,
);

const balance = await tally.balance('acme');
console.log(
  `4. Balance: ${formatCredits(balance.balanceMicros, { maxFractionDigits: 6 })} credits (${balance.buckets.length} bucket, ${formatCredits(balance.availableMicros, { maxFractionDigits: 6 })} available)`,
);

const now = new Date();
const preview = previewTierChange({
  catalog,
  subscription: { tier: 'starter', status: 'active', currentPeriodStart: now, currentPeriodEnd: periodEnd },
  toTier: 'professional',
  at: new Date(now.getTime() + 15 * 24 * 3600 * 1000),
});
console.log(`5. Upgrading to Professional halfway through the period would cost ${formatMoney(preview.amountDue)} now:`);
for (const line of preview.lines) console.log(`   ${line.description}: ${formatMoney(line.amount)}`);

const audit = await tally.audit();
console.log(`6. Audit: ${audit.ok ? 'clean' : 'PROBLEMS'} (${audit.entries} entries, journal sums to ${audit.totalMicros})`);
await store.close();
