import type { TierChangeEmailData } from '@tally/core';
import { EmailLayout, type EmailView } from '../layout.js';
import type { TierChangeEmailMessages } from '../messages.js';
import type { EmailTemplate } from '../template.js';

/**
 * Upgrades and downgrades carry the same data; they differ in wording, so each template passes its
 * own messages. `timing` says whether the change is already in effect or waits for `effectiveAt`.
 */
function tierChangeSubject(data: TierChangeEmailData, view: EmailView, m: TierChangeEmailMessages): string {
  const values = { product: view.brand.productName, to: data.toTierName };
  return data.timing === 'now' ? m.subjectNow(values) : m.subjectScheduled({ ...values, date: view.format.date(data.effectiveAt) });
}

function TierChangeEmail({ data, view, m }: { data: TierChangeEmailData; view: EmailView; m: TierChangeEmailMessages }) {
  const { messages, format } = view;
  const facts = messages.common.facts;
  const date = format.date(data.effectiveAt);
  const names = { from: data.fromTierName, to: data.toTierName, date };
  const credits = format.allowance(data.allowanceMicros);
  const price = data.priceMinor === null ? null : format.money(data.priceMinor, data.currency);
  return (
    <EmailLayout
      view={view}
      subject={tierChangeSubject(data, view, m)}
      heading={data.timing === 'now' ? m.headingNow(names) : m.headingScheduled(names)}
      paragraphs={[
        data.timing === 'now' ? m.changedNow(names) : m.changesScheduled(names),
        m.includes({ to: data.toTierName, credits }),
        ...(price ? [m.price({ to: data.toTierName, price })] : []),
      ]}
      facts={[
        { label: facts.previousPlan, value: data.fromTierName },
        { label: facts.newPlan, value: data.toTierName },
        { label: facts.effective, value: date },
        { label: facts.credits, value: credits },
        ...(price ? [{ label: facts.price, value: messages.common.pricePerPeriod(price) }] : []),
      ]}
      cta={m.cta}
      showsDates
    />
  );
}

/** Sent when a customer moves to a bigger plan. */
export const tierUpgradedEmail: EmailTemplate<'tier_upgraded'> = {
  subject: (data, view) => tierChangeSubject(data, view, view.messages.tierUpgraded),
  Email: ({ data, view }) => <TierChangeEmail data={data} view={view} m={view.messages.tierUpgraded} />,
};

/** Sent when a customer moves to a smaller plan: usually scheduled for the period's end, sometimes at once. */
export const tierDowngradedEmail: EmailTemplate<'tier_downgraded'> = {
  subject: (data, view) => tierChangeSubject(data, view, view.messages.tierDowngraded),
  Email: ({ data, view }) => <TierChangeEmail data={data} view={view} m={view.messages.tierDowngraded} />,
};
