import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MoneyAmount } from './money-amount.js';

describe('MoneyAmount', () => {
  it('formats minor units exactly, beyond what a float could hold', () => {
    expect(renderToStaticMarkup(<MoneyAmount amount={1999n} currency="USD" />)).toBe(
      '<data class="tally-money-amount" data-sign="positive" value="1999">$19.99</data>',
    );
    expect(renderToStaticMarkup(<MoneyAmount amount={900719925474099301n} currency="USD" />)).toContain('$9,007,199,254,740,993.01');
  });

  it('follows the currency exponent and locale, and marks the sign', () => {
    expect(renderToStaticMarkup(<MoneyAmount amount={-1234n} currency="JPY" locale="ja-JP" className="x" />)).toBe(
      '<data class="tally-money-amount x" data-sign="negative" value="-1234">-￥1,234</data>',
    );
    expect(renderToStaticMarkup(<MoneyAmount amount={0n} currency="EUR" locale="de-DE" />)).toContain('0,00');
  });
});
