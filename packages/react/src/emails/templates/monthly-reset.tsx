import { EmailLayout } from '../layout.js';
import type { EmailTemplate } from '../template.js';

/** Sent when a new period starts and the allowance is granted again. */
export const monthlyResetEmail: EmailTemplate<'monthly_reset'> = {
  subject: (_data, { brand, messages }) => messages.monthlyReset.subject({ product: brand.productName }),
  Email({ data, view }) {
    const { messages, format } = view;
    const m = messages.monthlyReset;
    const facts = messages.common.facts;
    const credits = format.credits(data.allowanceMicros);
    return (
      <EmailLayout
        view={view}
        subject={monthlyResetEmail.subject(data, view)}
        heading={m.heading}
        paragraphs={[
          m.renewed({ tier: data.tierName, credits }),
          m.period({ start: format.date(data.periodStart), end: format.date(data.periodEnd) }),
        ]}
        facts={[
          { label: facts.plan, value: data.tierName },
          { label: facts.credits, value: credits },
          { label: facts.period, value: format.dateRange(data.periodStart, data.periodEnd) },
        ]}
        cta={m.cta}
        showsDates
      />
    );
  },
};
