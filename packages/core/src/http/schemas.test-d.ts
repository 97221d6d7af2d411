import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as s from './schemas.js';
import type * as w from './wire.js';

// The schemas must describe exactly the shapes of wire.ts: what the handler validates, what the
// OpenAPI document says and what the client reads are then one contract.
type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

describe('response schemas equal the wire types', () => {
  it('analytics', () => {
    expectTypeOf<Out<typeof s.customersMetricSchema>>().toEqualTypeOf<w.WireCustomersMetric>();
    expectTypeOf<Out<typeof s.mrrMetricSchema>>().toEqualTypeOf<w.WireMrrMetric>();
    expectTypeOf<Out<typeof s.churnMetricSchema>>().toEqualTypeOf<w.WireChurnMetric>();
    expectTypeOf<Out<typeof s.retentionMetricSchema>>().toEqualTypeOf<w.WireRetentionMetric>();
    expectTypeOf<Out<typeof s.funnelMetricSchema>>().toEqualTypeOf<w.WireFunnelMetric>();
    expectTypeOf<Out<typeof s.usageMetricSchema>>().toEqualTypeOf<w.WireUsageMetric>();
    expectTypeOf<Out<typeof s.marginMetricSchema>>().toEqualTypeOf<w.WireMarginMetric>();
    expectTypeOf<Out<typeof s.utilizationMetricSchema>>().toEqualTypeOf<w.WireUtilizationMetric>();
    expectTypeOf<Out<typeof s.topCustomersMetricSchema>>().toEqualTypeOf<w.WireTopCustomersMetric>();
  });

  it('emails and unsubscribe', () => {
    expectTypeOf<Out<typeof s.emailTemplatesSchema>>().toEqualTypeOf<w.WireEmailTemplates>();
    expectTypeOf<Out<typeof s.emailPreviewSchema>>().toEqualTypeOf<w.WireEmailPreview>();
    expectTypeOf<Out<typeof s.emailDeliverySchema>>().toEqualTypeOf<w.WireEmailDelivery>();
    expectTypeOf<Out<typeof s.emailDeliveryPageSchema>>().toEqualTypeOf<w.WirePage<w.WireEmailDelivery>>();
    expectTypeOf<Out<typeof s.emailTestResultSchema>>().toEqualTypeOf<{ delivery: w.WireEmailDelivery }>();
    expectTypeOf<In<typeof s.emailTestInputSchema>>().toEqualTypeOf<w.WireEmailTestInput>();
    expectTypeOf<Out<typeof s.unsubscribeResultSchema>>().toEqualTypeOf<w.WireUnsubscribeResult>();
  });

  it('account and balance', () => {
    expectTypeOf<Out<typeof s.problemSchema>>().toEqualTypeOf<w.WireProblem>();
    expectTypeOf<Out<typeof s.healthSchema>>().toEqualTypeOf<w.WireHealth>();
    expectTypeOf<Out<typeof s.bucketSchema>>().toEqualTypeOf<w.WireBucket>();
    expectTypeOf<Out<typeof s.balanceSchema>>().toEqualTypeOf<w.WireBalance>();
    expectTypeOf<Out<typeof s.subscriptionStatusSchema>>().toEqualTypeOf<w.WireSubscriptionStatus>();
    expectTypeOf<Out<typeof s.subscriptionSchema>>().toEqualTypeOf<w.WireSubscription>();
    expectTypeOf<Out<typeof s.providerBalanceSchema>>().toEqualTypeOf<w.WireProviderBalance>();
    expectTypeOf<Out<typeof s.meSchema>>().toEqualTypeOf<w.WireMe>();
  });

  it('tiers and tier changes', () => {
    expectTypeOf<Out<typeof s.tierSchema>>().toEqualTypeOf<w.WireTier>();
    expectTypeOf<Out<typeof s.tiersSchema>>().toEqualTypeOf<w.WireTiers>();
    expectTypeOf<Out<typeof s.tierChangePreviewSchema>>().toEqualTypeOf<w.WireTierChangePreview>();
    expectTypeOf<Out<typeof s.tierChangeResultSchema>>().toEqualTypeOf<w.WireTierChangeResult>();
  });

  it('history and usage', () => {
    expectTypeOf<Out<typeof s.entrySchema>>().toEqualTypeOf<w.WireEntry>();
    expectTypeOf<Out<typeof s.entryPageSchema>>().toEqualTypeOf<w.WirePage<w.WireEntry>>();
    expectTypeOf<Out<typeof s.usageSchema>>().toEqualTypeOf<w.WireUsage>();
  });

  it('coupons, packs, caps, keys, notifications', () => {
    expectTypeOf<Out<typeof s.couponBenefitSchema>>().toEqualTypeOf<w.WireCouponBenefit>();
    expectTypeOf<Out<typeof s.redemptionSchema>>().toEqualTypeOf<w.WireRedemption>();
    expectTypeOf<Out<typeof s.creditPackSchema>>().toEqualTypeOf<w.WireCreditPack>();
    expectTypeOf<Out<typeof s.creditPacksSchema>>().toEqualTypeOf<w.WireCreditPack[]>();
    expectTypeOf<Out<typeof s.autoRechargeSchema>>().toEqualTypeOf<w.WireAutoRecharge>();
    expectTypeOf<Out<typeof s.spendCapSchema>>().toEqualTypeOf<w.WireSpendCap>();
    expectTypeOf<Out<typeof s.spendCapsSchema>>().toEqualTypeOf<w.WireSpendCap[]>();
    expectTypeOf<Out<typeof s.byokKeySchema>>().toEqualTypeOf<w.WireByokKey>();
    expectTypeOf<Out<typeof s.byokKeysSchema>>().toEqualTypeOf<w.WireByokKey[]>();
    expectTypeOf<Out<typeof s.byokRemovedSchema>>().toEqualTypeOf<w.WireByokRemoved>();
    expectTypeOf<Out<typeof s.notificationPreferencesSchema>>().toEqualTypeOf<w.WireNotificationPreferences>();
    expectTypeOf<Out<typeof s.checkoutSchema>>().toEqualTypeOf<w.WireCheckout>();
  });

  it('admin', () => {
    expectTypeOf<Out<typeof s.adminCustomerSchema>>().toEqualTypeOf<w.WireAdminCustomer>();
    expectTypeOf<Out<typeof s.adminCustomerPageSchema>>().toEqualTypeOf<w.WirePage<w.WireAdminCustomer>>();
    expectTypeOf<Out<typeof s.adminCustomerDetailSchema>>().toEqualTypeOf<w.WireAdminCustomerDetail>();
    expectTypeOf<Out<typeof s.ledgerOperationSchema>>().toEqualTypeOf<w.WireLedgerOperation>();
    expectTypeOf<Out<typeof s.couponSchema>>().toEqualTypeOf<w.WireCoupon>();
    expectTypeOf<Out<typeof s.couponsSchema>>().toEqualTypeOf<w.WireCoupon[]>();
    expectTypeOf<Out<typeof s.auditReportSchema>>().toEqualTypeOf<w.WireAuditReport>();
    expectTypeOf<Out<typeof s.outboxMessageSchema>>().toEqualTypeOf<w.WireOutboxMessage>();
    expectTypeOf<Out<typeof s.outboxMessagesSchema>>().toEqualTypeOf<w.WireOutboxMessage[]>();
    expectTypeOf<Out<typeof s.outboxRetriedSchema>>().toEqualTypeOf<w.WireOutboxRetried>();
  });
});

describe('request body schemas take exactly the wire input types', () => {
  it('customer bodies', () => {
    expectTypeOf<In<typeof s.tierRequestSchema>>().toEqualTypeOf<w.WireTierRequest>();
    expectTypeOf<In<typeof s.portalRequestSchema>>().toEqualTypeOf<w.WirePortalRequest>();
    expectTypeOf<In<typeof s.redeemRequestSchema>>().toEqualTypeOf<w.WireRedeemRequest>();
    expectTypeOf<In<typeof s.autoRechargeInputSchema>>().toEqualTypeOf<w.WireAutoRecharge>();
    expectTypeOf<In<typeof s.spendCapInputSchema>>().toEqualTypeOf<w.WireSpendCapInput>();
    expectTypeOf<In<typeof s.byokKeyInputSchema>>().toEqualTypeOf<w.WireByokKeyInput>();
    expectTypeOf<In<typeof s.notificationPreferencesInputSchema>>().toEqualTypeOf<w.WireNotificationPreferencesInput>();
  });

  it('admin bodies', () => {
    expectTypeOf<In<typeof s.grantInputSchema>>().toEqualTypeOf<w.WireGrantInput>();
    expectTypeOf<In<typeof s.adjustInputSchema>>().toEqualTypeOf<w.WireAdjustInput>();
    expectTypeOf<In<typeof s.couponInputSchema>>().toEqualTypeOf<w.WireCouponInput>();
    expectTypeOf<In<typeof s.couponUpdateSchema>>().toEqualTypeOf<w.WireCouponUpdate>();
  });

  it('bodies have no transforms: what is sent is what the route reads', () => {
    expectTypeOf<Out<typeof s.grantInputSchema>>().toEqualTypeOf<In<typeof s.grantInputSchema>>();
    expectTypeOf<Out<typeof s.couponInputSchema>>().toEqualTypeOf<In<typeof s.couponInputSchema>>();
    expectTypeOf<Out<typeof s.spendCapInputSchema>>().toEqualTypeOf<In<typeof s.spendCapInputSchema>>();
  });
});
