import type { FormatCreditsOptions } from '@tally/core';
import type { ComponentPropsWithoutRef } from 'react';
import { formatCreditMicros } from '../format/amounts.js';

export interface CreditAmountProps extends Omit<ComponentPropsWithoutRef<'data'>, 'value' | 'children'>, FormatCreditsOptions {
  /** The amount in micros (1 credit = 1,000,000 micros). */
  micros: bigint;
  /** Text after the number; `null` shows the number alone. Default `"credits"`. */
  unit?: string | null;
}

/**
 * A credit amount, formatted exactly from bigint micros. Renders `<data value="…micros">` so the
 * machine-readable amount travels with the text; `data-sign` lets styles colour debits and credits.
 */
export function CreditAmount({ micros, unit = 'credits', locale, maxFractionDigits, minFractionDigits, ...rest }: CreditAmountProps) {
  const text = formatCreditMicros(micros, { locale, maxFractionDigits, minFractionDigits });
  const sign = micros < 0n ? 'negative' : micros > 0n ? 'positive' : 'zero';
  return (
    <data className="tally-credit-amount" data-sign={sign} {...rest} value={micros.toString()}>
      {unit ? `${text} ${unit}` : text}
    </data>
  );
}
