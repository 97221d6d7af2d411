export { useTransactions } from './hooks.js';
export { TransactionHistory, type TransactionHistoryProps } from './transaction-history.js';
