export { MoneyAmount, type MoneyAmountProps } from './money-amount.js';
