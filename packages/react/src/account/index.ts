export { CreditBalance, type CreditBalanceProps } from './credit-balance.js';
export { useBalance, useMe } from './hooks.js';
export { LowBalanceBanner, type LowBalanceBannerProps, type LowBalanceReason } from './low-balance-banner.js';
