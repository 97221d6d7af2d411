/**
 * Which method of the typed client (`createTallyClient` from `@tally/core/client`) calls which
 * operation, and with which arguments taken from the operation's example values. docs.test.ts builds
 * a real client and checks that every method named here exists, and type-checks every JavaScript
 * sample against the client's declarations, so a renamed method or a changed signature fails there.
 *
 * Operations without an entry are called with `fetch`: the public routes the client leaves out
 * (health, the OpenAPI document, unsubscribe) and the webhooks, which providers call. The test
 * requires every customer and admin operation to have an entry.
 */
import type { SampleOperation } from './operations.ts';

export interface ClientCall {
  /** Where the method is on the client, e.g. `['admin', 'emails', 'preview']`. */
  method: readonly string[];
  /** The arguments, as JSON-like values the sample prints as JavaScript literals. */
  args(operation: SampleOperation): unknown[];
}

const queryOf = (operation: SampleOperation): Record<string, string> => Object.fromEntries(operation.query);
const bodyOf = (operation: SampleOperation): Record<string, unknown> => (operation.body ?? {}) as Record<string, unknown>;

function headerOf(operation: SampleOperation, name: string): string | undefined {
  return operation.headers.find(([header]) => header.toLowerCase() === name.toLowerCase())?.[1];
}

/** `{ idempotencyKey }` for the methods that take one, when the document gives an example key. */
function mutationOptions(operation: SampleOperation): unknown[] {
  const key = headerOf(operation, 'Idempotency-Key');
  return key === undefined ? [] : [{ idempotencyKey: key }];
}

/** Picks query parameters for a client method, turning the ones the client takes as numbers into numbers. */
function pick(operation: SampleOperation, names: readonly string[], numeric: readonly string[] = []): Record<string, unknown> {
  const query = queryOf(operation);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = query[name];
    if (value !== undefined) out[name] = numeric.includes(name) ? Number(value) : value;
  }
  return out;
}

/** A single object argument, left out when it is empty. */
const optionalObject = (value: Record<string, unknown>): unknown[] => (Object.keys(value).length === 0 ? [] : [value]);

const path = (operation: SampleOperation, name: string): string => operation.pathParams[name] as string;

const METRICS = ['customers', 'mrr', 'churn', 'retention', 'funnel', 'usage', 'margin', 'utilization', 'top-customers'] as const;

const analyticsCalls: Record<string, ClientCall> = Object.fromEntries(
  METRICS.map((metric) => [
    `adminAnalytics${metric
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('')}`,
    {
      method: ['admin', 'analytics', 'metric'],
      args: (operation: SampleOperation) => [{ metric, ...pick(operation, ['from', 'to', 'granularity', 'limit'], ['limit']) }],
    } satisfies ClientCall,
  ]),
);

export const CLIENT_CALLS: Readonly<Record<string, ClientCall>> = {
  getMe: { method: ['me'], args: () => [] },
  getBalance: { method: ['balance'], args: () => [] },
  getUsage: { method: ['usage'], args: (op) => optionalObject(pick(op, ['from', 'to', 'groupBy'])) },
  listTransactions: {
    method: ['transactions'],
    args: (op) => {
      const { kind, ...rest } = pick(op, ['kind', 'limit'], ['limit']);
      // The client takes the kinds as an array and joins them itself.
      return optionalObject({ ...(typeof kind === 'string' ? { kind: kind.split(',') } : {}), ...rest });
    },
  },
  listTiers: { method: ['tiers'], args: () => [] },
  previewTierChange: { method: ['previewTierChange'], args: (op) => [bodyOf(op).tier] },
  changeTier: { method: ['changeTier'], args: (op) => [bodyOf(op).tier, ...mutationOptions(op)] },
  cancelSubscription: { method: ['cancelSubscription'], args: () => [] },
  resumeSubscription: { method: ['resumeSubscription'], args: () => [] },
  openPaymentMethodPortal: { method: ['paymentMethodPortal'], args: (op) => optionalObject(bodyOf(op)) },
  redeemCoupon: { method: ['redeemCoupon'], args: (op) => [bodyOf(op).code, ...mutationOptions(op)] },
  listCreditPacks: { method: ['creditPacks'], args: () => [] },
  checkoutCreditPack: { method: ['buyCreditPack'], args: (op) => [path(op, 'packId')] },
  getAutoRecharge: { method: ['autoRecharge'], args: () => [] },
  setAutoRecharge: { method: ['setAutoRecharge'], args: (op) => [bodyOf(op)] },
  listSpendCaps: { method: ['spendCaps'], args: () => [] },
  setSpendCap: { method: ['setSpendCap'], args: (op) => [bodyOf(op)] },
  listByokKeys: { method: ['byokKeys'], args: () => [] },
  setByokKey: { method: ['setByokKey'], args: (op) => [path(op, 'provider'), bodyOf(op).apiKey] },
  removeByokKey: { method: ['removeByokKey'], args: (op) => [path(op, 'provider')] },
  getNotificationPreferences: { method: ['notificationPreferences'], args: () => [] },
  setNotificationPreferences: { method: ['setNotificationPreferences'], args: (op) => [bodyOf(op)] },
  adminListCustomers: { method: ['admin', 'customers'], args: (op) => optionalObject(pick(op, ['search', 'limit'], ['limit'])) },
  adminGetCustomer: { method: ['admin', 'customer'], args: (op) => [path(op, 'id')] },
  adminGrantCredits: { method: ['admin', 'grant'], args: (op) => [path(op, 'id'), bodyOf(op), ...mutationOptions(op)] },
  adminAdjustCredits: { method: ['admin', 'adjust'], args: (op) => [path(op, 'id'), bodyOf(op), ...mutationOptions(op)] },
  adminListCoupons: { method: ['admin', 'coupons'], args: () => [] },
  adminCreateCoupon: { method: ['admin', 'createCoupon'], args: (op) => [bodyOf(op)] },
  adminUpdateCoupon: { method: ['admin', 'setCouponActive'], args: (op) => [path(op, 'code'), bodyOf(op).active] },
  adminAudit: { method: ['admin', 'audit'], args: () => [] },
  adminListDeadLetters: { method: ['admin', 'deadLetters'], args: () => [] },
  adminRetryDeadLetter: { method: ['admin', 'retryDeadLetter'], args: (op) => [path(op, 'id')] },
  adminListEmailTemplates: { method: ['admin', 'emails', 'templates'], args: () => [] },
  adminPreviewEmail: {
    method: ['admin', 'emails', 'preview'],
    args: (op) => [path(op, 'template'), ...optionalObject(pick(op, ['locale']))],
  },
  adminSendTestEmail: { method: ['admin', 'emails', 'sendTest'], args: (op) => [bodyOf(op)] },
  adminEmailLog: {
    method: ['admin', 'emails', 'log'],
    args: (op) => optionalObject(pick(op, ['customerId', 'status', 'template', 'limit'], ['limit'])),
  },
  ...analyticsCalls,
};
