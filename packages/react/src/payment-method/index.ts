export { usePaymentMethodPortal } from './hooks.js';
export { PaymentMethodButton, type PaymentMethodButtonProps } from './payment-method-button.js';
