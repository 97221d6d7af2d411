import type { ComponentPropsWithoutRef } from 'react';
import { formatMinorUnits } from '../format/amounts.js';

export interface MoneyAmountProps extends Omit<ComponentPropsWithoutRef<'data'>, 'value' | 'children'> {
  /** The amount in the currency's minor unit (cents for USD). */
  amount: bigint;
  /** ISO 4217 code, e.g. `"USD"`. */
  currency: string;
  /** BCP 47 locale. Default `en-US`. */
  locale?: string;
}

/**
 * A money amount formatted exactly from bigint minor units (`1999n` USD → `$19.99`). Like
 * `CreditAmount` it renders `<data value="…minor units">` and marks the sign for styling.
 */
export function MoneyAmount({ amount, currency, locale, className, ...rest }: MoneyAmountProps) {
  const sign = amount < 0n ? 'negative' : amount > 0n ? 'positive' : 'zero';
  return (
    <data
      className={className ? `tally-money-amount ${className}` : 'tally-money-amount'}
      data-sign={sign}
      {...rest}
      value={amount.toString()}
    >
      {formatMinorUnits(amount, currency, locale)}
    </data>
  );
}
