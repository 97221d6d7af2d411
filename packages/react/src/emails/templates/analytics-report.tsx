import type { AnalyticsReportEmailData } from '@tally/core';
import { EmailLayout, type EmailView } from '../layout.js';
import type { EmailTemplate } from '../template.js';

const DAY_MS = 86_400_000;

/** The period as people name it: one day, a week's first and last day, or a month. `to` is exclusive. */
function periodOf(data: AnalyticsReportEmailData, view: EmailView): string {
  const { format } = view;
  if (data.cadence === 'daily') return format.date(data.from);
  if (data.cadence === 'monthly') return format.month(data.from);
  return format.dateRange(data.from, new Date(data.to.getTime() - DAY_MS));
}

/** An amount with its sign, so a change reads as one: `+$147.00`, `-$30.00`, `$0.00`. */
const signed = (value: bigint, text: string) => (value > 0n ? `+${text}` : text);

/** The scheduled analytics report to the app's admins: the period's headline numbers, the top customers, a link to the dashboard. */
export const analyticsReportEmail: EmailTemplate<'analytics_report'> = {
  subject: (data, view) =>
    view.messages.analyticsReport.subject({ product: view.brand.productName, cadence: data.cadence, period: periodOf(data, view) }),
  Email({ data, view }) {
    const { messages, format } = view;
    const m = messages.analyticsReport;
    const facts = m.facts;
    const money = (minor: bigint) => format.money(minor, data.currency);
    const period = periodOf(data, view);
    const mrr = data.mrr;
    const change = signed(mrr.net, money(mrr.net));
    const growth = mrr.growthBps === null ? null : signed(BigInt(mrr.growthBps), format.percent(mrr.growthBps));
    const marginPercent = data.marginBps === null ? null : format.percent(data.marginBps);
    const marginValue = format.usd(data.marginNanoUsd);
    const top = data.topCustomers;
    return (
      <EmailLayout
        view={view}
        subject={analyticsReportEmail.subject(data, view)}
        heading={m.heading({ cadence: data.cadence, period })}
        paragraphs={[
          m.intro({ product: view.brand.productName, cadence: data.cadence, period }),
          m.mrr({ mrr: money(mrr.atEnd), change, growth }),
          m.usage({
            calls: format.count(data.calls),
            callCount: data.calls,
            credits: format.credits(data.creditsChargedMicros),
            active: format.count(data.customers.active),
            activeCount: data.customers.active,
          }),
          m.margin({
            revenue: format.usd(data.revenueNanoUsd),
            cost: format.usd(data.costNanoUsd),
            margin: marginValue,
            percent: marginPercent,
          }),
        ]}
        factGroups={[
          {
            heading: m.sections.mrr,
            facts: [
              { label: facts.mrrAtEnd, value: money(mrr.atEnd) },
              { label: facts.mrrAtStart, value: money(mrr.atStart) },
              { label: facts.netChange, value: growth === null ? change : `${change} (${growth})` },
              { label: facts.new, value: money(mrr.new) },
              { label: facts.expansion, value: money(mrr.expansion) },
              { label: facts.reactivation, value: money(mrr.reactivation) },
              { label: facts.contraction, value: money(mrr.contraction) },
              { label: facts.churn, value: money(mrr.churn) },
            ],
          },
          {
            heading: m.sections.customers,
            facts: [
              { label: facts.signUps, value: format.count(data.customers.signUps) },
              { label: facts.activeCustomers, value: format.count(data.customers.active) },
              { label: facts.totalCustomers, value: format.count(data.customers.total) },
            ],
          },
          {
            heading: m.sections.usage,
            facts: [
              { label: facts.calls, value: format.count(data.calls) },
              { label: facts.tokens, value: format.count(data.tokens) },
              { label: facts.creditsCharged, value: format.credits(data.creditsChargedMicros) },
              { label: facts.revenue, value: format.usd(data.revenueNanoUsd) },
              { label: facts.providerCost, value: format.usd(data.costNanoUsd) },
              { label: facts.margin, value: marginPercent === null ? marginValue : `${marginValue} (${marginPercent})` },
            ],
          },
          ...(top.length === 0
            ? []
            : [
                {
                  heading: m.sections.topCustomers(top.length),
                  facts: top.map((customer, index) => ({
                    label: m.topCustomerLabel({ rank: index + 1, customerId: customer.customerId, tier: customer.tier }),
                    value: m.topCustomer({
                      credits: format.credits(customer.creditsMicros),
                      calls: format.count(customer.calls),
                      callCount: customer.calls,
                    }),
                  })),
                },
              ]),
        ]}
        notes={[...(top.length === 0 ? [m.noTopCustomers] : []), ...(data.attachment ? [m.attachment({ format: data.attachment })] : [])]}
        cta={data.dashboardUrl ? m.cta : undefined}
        ctaHref={data.dashboardUrl}
        showsDates
      />
    );
  },
};
