import { EmailLayout } from '../layout.js';
import type { EmailTemplate } from '../template.js';

/** Sent once a period, when less than a tenth of the allowance is left. */
export const lowBalanceEmail: EmailTemplate<'low_balance'> = {
  subject: (_data, { brand, messages }) => messages.lowBalance.subject({ product: brand.productName }),
  Email({ data, view }) {
    const { messages, format } = view;
    const m = messages.lowBalance;
    const facts = messages.common.facts;
    const remaining = format.credits(data.remainingMicros);
    const allowance = format.credits(data.allowanceMicros);
    const renews = data.renewsAt ? format.date(data.renewsAt) : null;
    return (
      <EmailLayout
        view={view}
        subject={lowBalanceEmail.subject(data, view)}
        heading={m.heading}
        paragraphs={[m.remaining({ remaining, allowance }), renews ? m.renews({ date: renews }) : m.noRenewal, m.advice]}
        facts={[
          { label: facts.remaining, value: remaining },
          { label: facts.allowance, value: allowance },
          ...(renews ? [{ label: facts.renewsOn, value: renews }] : []),
        ]}
        cta={m.cta}
        showsDates={renews !== null}
      />
    );
  },
};
