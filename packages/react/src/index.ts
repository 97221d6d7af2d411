export { CreditAmount, type CreditAmountProps } from './credit-amount/credit-amount.js';
