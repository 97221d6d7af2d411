export {
  createLagoClient,
  LAGO_EVENTS_BATCH_MAX,
  type LagoClient,
  type LagoClientOptions,
  type LagoCustomer,
  type LagoCustomerInput,
  type LagoEventInput,
  type LagoEventsResult,
  type LagoRetryOptions,
  type LagoSubscription,
  type LagoSubscriptionInput,
} from './client.js';
export { createLagoSink, type LagoSink, type LagoSinkOptions } from './sink.js';
export {
  fetchLagoWebhookPublicKey,
  type LagoWebhook,
  type VerifyLagoWebhookInput,
  verifyLagoWebhook,
  type WebhookHeaders,
} from './webhook.js';
