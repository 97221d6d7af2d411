import type { NotificationCategory, ReportCadence } from '@tally/core';

/**
 * Every string the email templates show, for one language. Sentences are functions of values that are
 * already formatted for the locale (amounts, dates, names), so a translation only words them: it never
 * formats a number itself. Counts that decide a plural (`periods`, `one`) come as numbers or flags.
 */

/** Labels of the summary table ("Remaining", "Renews on", …) under a mail's sentences. */
export interface EmailFactLabels {
  plan: string;
  previousPlan: string;
  newPlan: string;
  credits: string;
  remaining: string;
  allowance: string;
  renewsOn: string;
  period: string;
  price: string;
  effective: string;
  amountDue: string;
  attempt: string;
  nextAttempt: string;
  code: string;
  benefit: string;
  expires: string;
}

export interface CommonEmailMessages {
  /** The first line: `Hi Ada,`; `name` is null when the customer has none. */
  greeting(name: string | null): string;
  /** A credit amount with its unit; `one` is true for exactly one credit. */
  credits(amount: string, one: boolean): string;
  /** What a plan without a credit limit includes, in place of `credits(…)`. */
  unlimitedCredits: string;
  /** A price and how often it is charged: `$49.00 per billing period`. */
  pricePerPeriod(price: string): string;
  /** Above the team's name at the end of the mail. */
  signOffLead: string;
  signOff(product: string): string;
  /** Under a mail that shows dates: they are formatted in UTC, whatever the reader's zone. */
  datesInUtc: string;
  /** Before the support address link. */
  support: string;
  accountReason(product: string): string;
  /** The footer of an admin mail (a scheduled report): why this address gets it, in place of `accountReason`. */
  adminReason(product: string): string;
  /** The footer's unsubscribe link text, per category. */
  unsubscribe: Record<NotificationCategory, string>;
  /** For a mail that cannot be turned off; `reason` is the context's `requiredReason`. */
  required(reason: string): string;
  facts: EmailFactLabels;
}

export interface WelcomeEmailMessages {
  subject(v: { product: string }): string;
  heading(v: { product: string }): string;
  intro(v: { product: string; tier: string }): string;
  /** `credits` is a formatted amount or `unlimitedCredits`. */
  allowance(v: { credits: string }): string;
  cta: string;
}

export interface LowBalanceEmailMessages {
  subject(v: { product: string }): string;
  heading: string;
  remaining(v: { remaining: string; allowance: string }): string;
  renews(v: { date: string }): string;
  /** When nothing renews (`renewsAt` is null). */
  noRenewal: string;
  advice: string;
  cta: string;
}

export interface MonthlyResetEmailMessages {
  subject(v: { product: string }): string;
  heading: string;
  renewed(v: { tier: string; credits: string }): string;
  period(v: { start: string; end: string }): string;
  cta: string;
}

export interface CouponRedeemedEmailMessages {
  subject(v: { code: string }): string;
  heading: string;
  credits(v: { code: string; credits: string }): string;
  expires(v: { date: string }): string;
  noExpiry: string;
  /** `periods` is the number of invoices the discount applies to. */
  percentOff(v: { code: string; percent: string; periods: number; periodsText: string }): string;
  /** The summary table's value for a discount: `25% off 3 invoices`. */
  percentOffBenefit(v: { percent: string; periods: number; periodsText: string }): string;
  cta: string;
}

/** Upgrades and downgrades word the same facts differently; each has its own set. */
export interface TierChangeEmailMessages {
  subjectNow(v: { product: string; to: string }): string;
  subjectScheduled(v: { product: string; to: string; date: string }): string;
  headingNow(v: { to: string }): string;
  headingScheduled(v: { to: string; date: string }): string;
  changedNow(v: { from: string; to: string; date: string }): string;
  changesScheduled(v: { from: string; to: string; date: string }): string;
  /** `credits` is a formatted amount or `unlimitedCredits`. */
  includes(v: { to: string; credits: string }): string;
  price(v: { to: string; price: string }): string;
  cta: string;
}

export interface PaymentFailedEmailMessages {
  subject(v: { product: string; amount: string }): string;
  heading: string;
  failed(v: { amount: string }): string;
  attempt(v: { attempt: string; attempts: number }): string;
  retry(v: { date: string }): string;
  noRetry: string;
  advice: string;
  cta: string;
}

/** Labels of the report mail's fact tables. */
export interface AnalyticsReportFactLabels {
  mrrAtEnd: string;
  mrrAtStart: string;
  netChange: string;
  new: string;
  expansion: string;
  reactivation: string;
  contraction: string;
  churn: string;
  signUps: string;
  activeCustomers: string;
  totalCustomers: string;
  calls: string;
  tokens: string;
  creditsCharged: string;
  revenue: string;
  providerCost: string;
  margin: string;
}

/**
 * The scheduled analytics report to admins. `period` is already formatted: one date (daily), a date
 * range (weekly) or a month and year (monthly). Signed amounts and percentages come with their sign.
 */
export interface AnalyticsReportEmailMessages {
  subject(v: { product: string; cadence: ReportCadence; period: string }): string;
  heading(v: { cadence: ReportCadence; period: string }): string;
  intro(v: { product: string; cadence: ReportCadence; period: string }): string;
  /** `growth` is null when there was no MRR at the start to compare with. */
  mrr(v: { mrr: string; change: string; growth: string | null }): string;
  /** `calls` and `active` are formatted counts; `callCount` and `activeCount` decide the plural. */
  usage(v: { calls: string; callCount: number; credits: string; active: string; activeCount: number }): string;
  /** `percent` is null when there was no revenue. */
  margin(v: { revenue: string; cost: string; margin: string; percent: string | null }): string;
  attachment(v: { format: 'pdf' | 'csv' }): string;
  noTopCustomers: string;
  sections: { mrr: string; customers: string; usage: string; topCustomers(count: number): string };
  facts: AnalyticsReportFactLabels;
  /** A top customer's line: `1,250 credits · 21,400 calls`. */
  topCustomer(v: { credits: string; calls: string; callCount: number }): string;
  /** The top customer's label: rank, id and tier. */
  topCustomerLabel(v: { rank: number; customerId: string; tier: string }): string;
  cta: string;
}

export interface EmailMessages {
  common: CommonEmailMessages;
  welcome: WelcomeEmailMessages;
  lowBalance: LowBalanceEmailMessages;
  monthlyReset: MonthlyResetEmailMessages;
  couponRedeemed: CouponRedeemedEmailMessages;
  tierUpgraded: TierChangeEmailMessages;
  tierDowngraded: TierChangeEmailMessages;
  paymentFailed: PaymentFailedEmailMessages;
  analyticsReport: AnalyticsReportEmailMessages;
}

const invoices = (periods: number, text: string) => (periods === 1 ? 'your next invoice' : `your next ${text} invoices`);

/** English, the fallback for every locale without its own set. */
export const en: EmailMessages = {
  common: {
    greeting: (name) => (name ? `Hi ${name},` : 'Hi,'),
    credits: (amount, one) => `${amount} ${one ? 'credit' : 'credits'}`,
    unlimitedCredits: 'unlimited credits',
    pricePerPeriod: (price) => `${price} per billing period`,
    signOffLead: 'Thank you,',
    signOff: (product) => `The ${product} team`,
    datesInUtc: 'Dates are given in UTC.',
    support: 'Questions? Write to us at',
    accountReason: (product) => `You receive this email because you have a ${product} account.`,
    adminReason: (product) => `You receive this report because your address is on ${product}'s list of report recipients.`,
    unsubscribe: {
      welcome: 'Unsubscribe from welcome emails',
      low_balance: 'Unsubscribe from low-balance emails',
      monthly_reset: 'Unsubscribe from credit renewal emails',
      coupon_redeemed: 'Unsubscribe from coupon emails',
      tier_changed: 'Unsubscribe from plan change emails',
      payment_failed: 'Unsubscribe from payment emails',
      provider_balance_low: 'Unsubscribe from provider balance emails',
    },
    required: (reason) => `You cannot turn these emails off. ${reason}`,
    facts: {
      plan: 'Plan',
      previousPlan: 'Previous plan',
      newPlan: 'New plan',
      credits: 'Credits',
      remaining: 'Remaining',
      allowance: 'Allowance',
      renewsOn: 'Renews on',
      period: 'Period',
      price: 'Price',
      effective: 'Effective',
      amountDue: 'Amount due',
      attempt: 'Attempt',
      nextAttempt: 'Next attempt',
      code: 'Code',
      benefit: 'Benefit',
      expires: 'Expires',
    },
  },
  welcome: {
    subject: ({ product }) => `Welcome to ${product}`,
    heading: ({ product }) => `Welcome to ${product}`,
    intro: ({ tier }) => `Your account is ready, and you are on the ${tier} plan.`,
    allowance: ({ credits }) => `Your plan includes ${credits} each billing period.`,
    cta: 'Go to your dashboard',
  },
  lowBalance: {
    subject: ({ product }) => `Your ${product} credits are running low`,
    heading: 'Your credits are running low',
    remaining: ({ remaining, allowance }) => `You have ${remaining} left of this period's ${allowance}.`,
    renews: ({ date }) => `Your allowance renews on ${date}.`,
    noRenewal: 'Your plan does not renew its credits automatically.',
    advice: 'Buy more credits or upgrade your plan to keep working without interruption.',
    cta: 'Add credits',
  },
  monthlyReset: {
    subject: ({ product }) => `Your ${product} credits have been renewed`,
    heading: 'Your credits have been renewed',
    renewed: ({ tier, credits }) => `Your ${tier} plan's ${credits} are available again.`,
    period: ({ start, end }) => `The new period runs from ${start} to ${end}.`,
    cta: 'View your usage',
  },
  couponRedeemed: {
    subject: ({ code }) => `Coupon ${code} has been applied`,
    heading: 'Your coupon has been applied',
    credits: ({ code, credits }) => `Coupon ${code} added ${credits} to your account.`,
    expires: ({ date }) => `These credits expire on ${date}.`,
    noExpiry: 'These credits do not expire.',
    percentOff: ({ code, percent, periods, periodsText }) => `Coupon ${code} takes ${percent} off ${invoices(periods, periodsText)}.`,
    percentOffBenefit: ({ percent, periods, periodsText }) => `${percent} off ${periods === 1 ? '1 invoice' : `${periodsText} invoices`}`,
    cta: 'View your account',
  },
  tierUpgraded: {
    subjectNow: ({ product, to }) => `Your ${product} plan is now ${to}`,
    subjectScheduled: ({ product, to, date }) => `Your ${product} plan changes to ${to} on ${date}`,
    headingNow: ({ to }) => `Welcome to ${to}`,
    headingScheduled: ({ to, date }) => `You move to ${to} on ${date}`,
    changedNow: ({ from, to, date }) => `You upgraded from ${from} to ${to} on ${date}. The new plan is in effect now.`,
    changesScheduled: ({ from, to, date }) => `Your plan changes from ${from} to ${to} on ${date}.`,
    includes: ({ to, credits }) => `${to} includes ${credits} each billing period.`,
    price: ({ to, price }) => `${to} costs ${price} per billing period.`,
    cta: 'View your plan',
  },
  tierDowngraded: {
    subjectNow: ({ product, to }) => `Your ${product} plan is now ${to}`,
    subjectScheduled: ({ product, to, date }) => `Your ${product} plan changes to ${to} on ${date}`,
    headingNow: ({ to }) => `Your plan is now ${to}`,
    headingScheduled: ({ to, date }) => `Your plan changes to ${to} on ${date}`,
    changedNow: ({ from, to, date }) => `Your plan changed from ${from} to ${to} on ${date}.`,
    changesScheduled: ({ from, to, date }) =>
      `Your plan changes from ${from} to ${to} on ${date}. Until then, everything in ${from} stays available to you.`,
    includes: ({ to, credits }) => `${to} includes ${credits} each billing period.`,
    price: ({ to, price }) => `${to} costs ${price} per billing period.`,
    cta: 'Review your plan',
  },
  paymentFailed: {
    subject: ({ product, amount }) => `Your ${product} payment of ${amount} failed`,
    heading: 'Your payment failed',
    failed: ({ amount }) => `We could not charge ${amount} to your payment method.`,
    attempt: ({ attempt }) => `This was attempt ${attempt}.`,
    retry: ({ date }) => `We will try again on ${date}.`,
    noRetry: 'We will not try again automatically.',
    advice: 'Please update your payment method to keep your access.',
    cta: 'Update payment method',
  },
  analyticsReport: {
    subject: ({ product, cadence, period }) => `${product} ${cadence} report: ${period}`,
    heading: ({ cadence }) => `Your ${cadence} report`,
    intro: ({ product, period }) => `Here are ${product}'s numbers for ${period}.`,
    mrr: ({ mrr, change, growth }) => `MRR ended the period at ${mrr} (${change}${growth === null ? '' : `, ${growth}`}).`,
    usage: ({ calls, callCount, credits, active, activeCount }) =>
      `${calls} ${callCount === 1 ? 'call' : 'calls'} charged ${credits}; ${active} ${activeCount === 1 ? 'customer was' : 'customers were'} active.`,
    margin: ({ revenue, cost, margin, percent }) =>
      `Revenue was ${revenue} against ${cost} of provider cost: a margin of ${margin}${percent === null ? '' : ` (${percent})`}.`,
    attachment: ({ format }) =>
      format === 'pdf' ? 'The full report is attached as a PDF.' : 'The full report is attached as CSV files, one per table.',
    noTopCustomers: 'No customer was charged credits in this period.',
    sections: {
      mrr: 'Monthly recurring revenue',
      customers: 'Customers',
      usage: 'Usage and margin',
      topCustomers: (count) => (count === 1 ? 'Top customer by credits' : `Top ${count} customers by credits`),
    },
    facts: {
      mrrAtEnd: 'MRR at the end',
      mrrAtStart: 'MRR at the start',
      netChange: 'Net change',
      new: 'New',
      expansion: 'Expansion',
      reactivation: 'Reactivation',
      contraction: 'Contraction',
      churn: 'Churn',
      signUps: 'Sign-ups',
      activeCustomers: 'Active customers',
      totalCustomers: 'Customers in total',
      calls: 'Calls',
      tokens: 'Tokens',
      creditsCharged: 'Credits charged',
      revenue: 'Revenue',
      providerCost: 'Provider cost',
      margin: 'Margin',
    },
    topCustomer: ({ credits, calls, callCount }) => `${credits} · ${calls} ${callCount === 1 ? 'call' : 'calls'}`,
    topCustomerLabel: ({ rank, customerId, tier }) => `${rank}. ${customerId} (${tier})`,
    cta: 'Open the dashboard',
  },
};
