// `pnpm bench`: times Tally's exact pricing paths against naive float versions measured in the same
// run, on the same machine, in the same process. Read the ratio, not the absolute numbers: timings
// on a shared machine are noisy. Nothing asserts on these.
import { parseUsdPrice, previewTierChange, priceCall, sampleCatalog } from '@tally/core';

interface Case {
  name: string;
  baseline: string;
  run: (i: number) => unknown;
  runBaseline: (i: number) => unknown;
}

const ROUNDS = 7;
const TARGET_NS = 150_000_000n; // per round

let sink: unknown;
function opsPerSecond(fn: (i: number) => unknown): number {
  // Calibrate the iteration count so one round takes about TARGET_NS.
  let iterations = 1_000;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn(i);
    const elapsed = process.hrtime.bigint() - start;
    if (elapsed > TARGET_NS / 4n) break;
    iterations *= 4;
  }
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn(i);
    const elapsed = Number(process.hrtime.bigint() - start);
    rates.push((iterations * 1e9) / elapsed);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? 0;
}

const models = ['openai/gpt-4o', 'openai/gpt-4o-mini', 'anthropic/claude-sonnet-4', 'mistralai/mistral-nemo'];
const floatPrices = new Map(
  Object.entries({
    'openai/gpt-4o': [0.0000025, 0.00001],
    'openai/gpt-4o-mini': [0.00000015, 0.0000006],
    'anthropic/claude-sonnet-4': [0.000003, 0.000015],
    'mistralai/mistral-nemo': [0.00000001875, 0.00000007],
  }),
);
const tiers = ['trial', 'starter', 'professional', 'enterprise'];
const floatMarkup = new Map([
  ['trial', 0.1],
  ['starter', 0.1],
  ['professional', 0.05],
  ['enterprise', 0],
]);
const priceStrings = ['0.0000025', '0.00000001875', '0.000015', '0.000000150', '0'];
const periodStart = new Date('2026-11-01T00:00:00Z');
const periodEnd = new Date('2026-12-01T00:00:00Z');

const cases: Case[] = [
  {
    name: 'priceCall (exact bigint, markup lookup)',
    baseline: 'float tokens × price × markup',
    run: (i) =>
      priceCall({
        catalog: sampleCatalog,
        tier: tiers[i % 4] as string,
        model: models[i % 4] as string,
        usage: { inputTokens: 1000 + (i % 977), outputTokens: 200 + (i % 313) },
      }),
    runBaseline: (i) => {
      const [input = 0, output = 0] = floatPrices.get(models[i % 4] as string) ?? [];
      const cost = (1000 + (i % 977)) * input + (200 + (i % 313)) * output;
      return Math.max(1, Math.round(cost * (1 + (floatMarkup.get(tiers[i % 4] as string) ?? 0)) * 1e6));
    },
  },
  {
    name: 'parseUsdPrice (exact decimal → femto-USD)',
    baseline: 'parseFloat',
    run: (i) => parseUsdPrice(priceStrings[i % 5] as string),
    runBaseline: (i) => Number.parseFloat(priceStrings[i % 5] as string),
  },
  {
    name: 'previewTierChange (to the second, 2 lines)',
    baseline: 'float share × prices',
    run: (i) =>
      previewTierChange({
        catalog: sampleCatalog,
        subscription: { tier: 'starter', status: 'active', currentPeriodStart: periodStart, currentPeriodEnd: periodEnd },
        toTier: 'professional',
        at: new Date(periodStart.getTime() + (i % 2_500_000) * 1000),
      }),
    runBaseline: (i) => {
      const left = (periodEnd.getTime() - (periodStart.getTime() + (i % 2_500_000) * 1000)) / (periodEnd.getTime() - periodStart.getTime());
      return [Math.round(-1900 * left), Math.round(4900 * left)];
    },
  },
];

const rows = cases.map((c) => {
  const baseline = opsPerSecond(c.runBaseline);
  const tally = opsPerSecond(c.run);
  return { case: c.name, baseline: c.baseline, tally, baselineRate: baseline, ratio: tally / baseline };
});
void sink;

const format = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`\nTally pricing bench · node ${process.version} · median of ${ROUNDS} rounds\n`);
console.log('| path | Tally ops/s | baseline | baseline ops/s | Tally ÷ baseline |');
console.log('|---|---:|---|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.case} | ${format(row.tally)} | ${row.baseline} | ${format(row.baselineRate)} | ${row.ratio.toFixed(3)}× |`);
}
console.log('\nThe baselines are inexact on purpose (floats); they show what exactness costs, not a target to beat.');
