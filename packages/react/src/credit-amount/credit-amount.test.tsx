import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { CreditAmount } from './credit-amount.js';

describe('CreditAmount', () => {
  it('renders exact micros with the amount as the machine-readable value', () => {
    expect(renderToStaticMarkup(<CreditAmount micros={1_234_567_890n} />)).toBe(
      '<data class="tally-credit-amount" data-sign="positive" value="1234567890">1,234.57 credits</data>',
    );
  });

  it('follows locale, precision and unit options and marks the sign', () => {
    const html = renderToStaticMarkup(<CreditAmount micros={-2_500_000n} locale="de-DE" maxFractionDigits={1} unit={null} id="x" />);
    expect(html).toBe('<data class="tally-credit-amount" data-sign="negative" id="x" value="-2500000">-2,5</data>');
    expect(renderToStaticMarkup(<CreditAmount micros={0n} />)).toContain('data-sign="zero"');
  });
});
