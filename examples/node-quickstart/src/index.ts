// Tally in a few steps: a customer subscribes (sandbox payments), makes a metered LLM call through the
// Vercel AI SDK at a power level, and previews an upgrade. The ledger runs on PGlite, the embedded
// Postgres: nothing to install. Without OPENROUTER_API_KEY the call goes to a local fake of OpenRouter
// (msw), so the demo runs offline. Run with `npm run demo` from the repository root.

import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { type MeteredCall, modelFor, tallyMiddleware } from '@tally/adapters/ai-sdk';
import { createOpenRouterCatalog, createOpenRouterClient } from '@tally/adapters/openrouter';
import { createOpenRouterFake } from '@tally/adapters/openrouter/testing';
import { createPGliteStore } from '@tally/adapters/pglite';
import { createBilling, createSandboxProvider, createTally, formatCredits, formatMoney, formatNanoUsd, sampleCatalog } from '@tally/core';
import { generateText, wrapLanguageModel } from 'ai';
import { setupServer } from 'msw/node';

const catalog = sampleCatalog;
const store = await createPGliteStore();
const tally = createTally({ catalog, store });
console.log(
  `1. Catalog ${catalog.version}: ${catalog.tiers.map((t) => `${t.name} ${formatMoney({ currency: catalog.currency, amount: t.price })}`).join(' · ')}`,
);

// Subscriptions with the sandbox payment provider (Stripe: createStripeProvider from @tally/adapters/stripe).
let billing: ReturnType<typeof createBilling> | null = null;
const sandbox = createSandboxProvider({ catalog, onEvent: (event) => billing?.applyEvent(event) });
billing = createBilling({ catalog, store, provider: sandbox });
await billing.subscribe({ customerId: 'acme', tier: 'trial' });
const checkout = await billing.changeTier({ customerId: 'acme', tier: 'starter' });
if (checkout.status !== 'checkout') throw new Error('a trial upgrades through checkout');
await sandbox.completeCheckout(checkout.checkoutId); // the sandbox's "Pay" button: events flow back into billing
const subscription = await billing.getSubscription('acme');
console.log(
  `2. acme subscribed: trial, then ${subscription?.tier} through a sandbox checkout (${subscription?.status}, ` +
    `period ends ${subscription?.currentPeriodEnd.toISOString().slice(0, 10)}); balance ${formatCredits((await tally.balance('acme')).balanceMicros)} credits`,
);

// OpenRouter: the real API with a key, else the local fake.
const offline = !process.env.OPENROUTER_API_KEY;
const fake = offline ? createOpenRouterFake() : null;
const server = fake ? setupServer(...fake.handlers) : null;
server?.listen({ onUnhandledFrame: 'bypass' });
const apiKey = process.env.OPENROUTER_API_KEY ?? (fake?.apiKey as string);
const prices = createOpenRouterCatalog({ client: createOpenRouterClient({ apiKey }) });
const openrouter = createOpenRouter({ apiKey });

let metered: MeteredCall | null = null;
const model = wrapLanguageModel({
  model: modelFor({ catalog, tier: 'starter', powerLevel: 'balanced', provider: openrouter }),
  middleware: tallyMiddleware({
    tally,
    customerId: 'acme',
    powerLevel: 'balanced',
    price: (id) => prices.modelPrice(id),
    idempotencyKey: 'acme:request:1',
    onCharge: (call) => {
      metered = call;
    },
  }),
});
const { text } = await generateText({ model, prompt: 'Say hello to Tally in five words.', maxOutputTokens: 64 });
const call = metered as MeteredCall | null;
if (!call) throw new Error('the call was not metered');
console.log(
  `3. generateText at power level "balanced" → ${call.model}${offline ? ' (local OpenRouter fake)' : ''}: "${text.slice(0, 60)}"\n` +
    `   ${call.inputTokens} in + ${call.outputTokens} out tokens, provider cost $${formatNanoUsd(call.providerCostNanoUsd)} (${call.costSource}), ` +
    `markup ${call.markupBps / 100} % → ${formatCredits(call.chargeMicros, { maxFractionDigits: 6 })} credits charged`,
);

const balance = await tally.balance('acme');
console.log(
  `4. Balance: ${formatCredits(balance.balanceMicros, { maxFractionDigits: 6 })} credits in ${balance.buckets.length} buckets (trial credits expire first)`,
);

const preview = await billing.previewChange('acme', 'professional');
const granted = preview.creditsGranted.kind === 'micros' ? `${formatCredits(preview.creditsGranted.micros)} credits` : 'unlimited credits';
console.log(`5. Upgrading to Professional now would cost ${formatMoney(preview.amountDue)} and grant ${granted}:`);
for (const line of preview.lines) console.log(`   ${line.description}: ${formatMoney(line.amount)}`);

const audit = await tally.audit();
console.log(`6. Audit: ${audit.ok ? 'clean' : 'PROBLEMS'} (${audit.entries} entries, journal sums to ${audit.totalMicros})`);
server?.close();
await store.close();
