// Tally in a few lines: load the catalog, price a metered LLM call for a customer's tier,
// and preview an upgrade. Run with `npm run demo` from the repository root.
import { parseOpenRouterPricing } from '@tally/adapters/openrouter';
import { formatCredits, formatMoney, formatNanoUsd, previewTierChange, priceCall, sampleCatalog } from '@tally/core';

const catalog = sampleCatalog;
console.log(
  `Catalog ${catalog.version}: ${catalog.tiers.map((t) => `${t.name} ${formatMoney({ currency: catalog.currency, amount: t.price })}`).join(' · ')}`,
);

// Prices as OpenRouter's GET /models returns them (USD per token, decimal strings), parsed exactly.
const pricing = parseOpenRouterPricing({ prompt: '0.0000025', completion: '0.00001' });
if (pricing.kind !== 'fixed') throw new Error('expected a fixed price');

const call = priceCall({
  catalog,
  tier: 'starter',
  model: 'openai/gpt-4o',
  usage: { inputTokens: 1_850, outputTokens: 420 },
  price: pricing.price,
});
console.log(
  `Priced a call: openai/gpt-4o, 1,850 in + 420 out tokens → provider cost $${formatNanoUsd(call.providerCostNanoUsd)}, ` +
    `markup ${call.markupBps / 100} %, charge ${formatCredits(call.chargeMicros, { maxFractionDigits: 6 })} credits`,
);

const preview = previewTierChange({
  catalog,
  subscription: {
    tier: 'starter',
    status: 'active',
    currentPeriodStart: new Date('2026-11-01T00:00:00Z'),
    currentPeriodEnd: new Date('2026-12-01T00:00:00Z'),
  },
  toTier: 'professional',
  at: new Date('2026-11-16T00:00:00Z'),
});
for (const line of preview.lines) console.log(`  ${line.description}: ${formatMoney(line.amount)}`);
console.log(`Upgrade to Professional now: ${formatMoney(preview.amountDue)} due`);
