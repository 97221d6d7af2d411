export { creditsToMicros, type FormatCreditsOptions, formatCredits, MICROS_PER_CREDIT, parseCredits } from './credits.js';
export { type FormatDecimalOptions, formatDecimal, type ParseDecimalOptions, parseDecimal } from './decimal.js';
export { type IntegerInput, toBigInt } from './integer.js';
export {
  addMoney,
  currencyExponent,
  formatMoney,
  type Money,
  money,
  moneyToDecimal,
  negateMoney,
  normalizeCurrency,
  parseMoney,
  sumMoney,
} from './money.js';
export {
  FEMTO_PER_NANO,
  FEMTO_USD_SCALE,
  femtoToNanoUsd,
  formatNanoUsd,
  formatUsdPrice,
  NANO_PER_USD,
  NANO_USD_SCALE,
  parseUsdCost,
  parseUsdPrice,
} from './provider-price.js';
export { divideRoundHalfUp, scaleRoundHalfUp } from './rounding.js';
