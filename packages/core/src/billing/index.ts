export {
  createSandboxProvider,
  encodeEvent,
  SANDBOX_SIGNATURE_HEADER,
  type SandboxProvider,
  type SandboxProviderOptions,
} from './sandbox.js';
export {
  type ApplyEventResult,
  type Billing,
  type ChangeTierResult,
  type CreateBillingOptions,
  createBilling,
  type SchedulerRound,
  type SubscribeResult,
  subscriptionPayload,
} from './service.js';
export * from './types.js';
