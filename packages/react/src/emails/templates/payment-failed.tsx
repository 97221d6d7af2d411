import { EmailLayout } from '../layout.js';
import type { EmailTemplate } from '../template.js';

/** Sent for every failed charge. A required category: it goes out whatever the customer's settings. */
export const paymentFailedEmail: EmailTemplate<'payment_failed'> = {
  subject: (data, { brand, messages, format }) =>
    messages.paymentFailed.subject({ product: brand.productName, amount: format.money(data.amountDueMinor, data.currency) }),
  Email({ data, view }) {
    const { messages, format } = view;
    const m = messages.paymentFailed;
    const facts = messages.common.facts;
    const amount = format.money(data.amountDueMinor, data.currency);
    const attempt = format.count(data.attemptCount);
    const next = data.nextAttemptAt ? format.date(data.nextAttemptAt) : null;
    return (
      <EmailLayout
        view={view}
        subject={paymentFailedEmail.subject(data, view)}
        heading={m.heading}
        paragraphs={[
          m.failed({ amount }),
          m.attempt({ attempt, attempts: data.attemptCount }),
          next ? m.retry({ date: next }) : m.noRetry,
          m.advice,
        ]}
        facts={[
          { label: facts.amountDue, value: amount },
          { label: facts.attempt, value: attempt },
          ...(next ? [{ label: facts.nextAttempt, value: next }] : []),
        ]}
        cta={m.cta}
        showsDates={next !== null}
      />
    );
  },
};
