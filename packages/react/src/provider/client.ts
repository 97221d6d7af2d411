import type { MetricName, WireMetricResult } from '@tally/core';
import type { WireMetricQuery } from '@tally/core/http';
import type {
  WireAutoRecharge,
  WireBalance,
  WireByokKey,
  WireCheckout,
  WireCreditPack,
  WireEntry,
  WireMe,
  WireNotificationPreferences,
  WirePage,
  WireRedemption,
  WireSpendCap,
  WireSubscription,
  WireTierChangePreview,
  WireTierChangeResult,
  WireTiers,
  WireUsage,
} from './wire.js';

export interface UsageQuery {
  /** ISO time, inclusive. Default: 30 days before `to`. */
  from?: string;
  /** ISO time, exclusive. Default: now. */
  to?: string;
  groupBy?: 'model' | 'day';
}

export interface TransactionsQuery {
  cursor?: string;
  kind?: WireEntry['kind'];
  limit?: number;
}

export interface AutoRechargeInput {
  enabled: boolean;
  thresholdMicros: string;
  packId: string;
  maxPerMonth: number;
}

export interface SpendCapInput {
  endUserId?: string;
  dailyMicros: string | null;
  monthlyMicros: string | null;
}

/** An analytics metric over `[from, to)` (ISO times, UTC), as `GET /v1/admin/analytics/{metric}` takes it. */
export type MetricRequest<M extends MetricName = MetricName> = WireMetricQuery<M>;

/**
 * What the widgets need from `createTallyClient` (`@tally/core/client`). Written out here so any
 * client of the same shape works — a test fake, or a client with extra methods.
 */
export interface TallyClientLike {
  me(): Promise<WireMe>;
  balance(): Promise<WireBalance>;
  usage(query?: UsageQuery): Promise<WireUsage>;
  transactions(query?: TransactionsQuery): Promise<WirePage<WireEntry>>;
  tiers(): Promise<WireTiers>;
  previewTierChange(tier: string): Promise<WireTierChangePreview>;
  changeTier(tier: string, options?: { idempotencyKey?: string }): Promise<WireTierChangeResult>;
  cancelSubscription(): Promise<WireSubscription>;
  resumeSubscription(): Promise<WireSubscription>;
  paymentMethodPortal(input?: { returnUrl?: string }): Promise<WireCheckout>;
  redeemCoupon(code: string, options?: { idempotencyKey?: string }): Promise<WireRedemption>;
  creditPacks(): Promise<WireCreditPack[]>;
  buyCreditPack(packId: string): Promise<WireCheckout>;
  autoRecharge(): Promise<WireAutoRecharge>;
  setAutoRecharge(input: AutoRechargeInput): Promise<WireAutoRecharge>;
  spendCaps(): Promise<WireSpendCap[]>;
  setSpendCap(input: SpendCapInput): Promise<WireSpendCap>;
  byokKeys(): Promise<WireByokKey[]>;
  setByokKey(provider: string, apiKey: string): Promise<WireByokKey>;
  removeByokKey(provider: string): Promise<{ provider: string; removed: boolean }>;
  notificationPreferences(): Promise<WireNotificationPreferences>;
  setNotificationPreferences(input: { categories: Array<{ id: string; enabled: boolean }> }): Promise<WireNotificationPreferences>;
  /** Operators only (`@tally/react/admin`): a client signed in with the `admin` role has it; the customer widgets never call it. */
  admin?: {
    analytics?: {
      metric<M extends MetricName>(query: MetricRequest<M>): Promise<WireMetricResult<M>>;
    };
  };
}
