import { EmailLayout } from '../layout.js';
import type { EmailTemplate } from '../template.js';

/** Sent once, when a customer's account is set up. */
export const welcomeEmail: EmailTemplate<'welcome'> = {
  subject: (_data, { brand, messages }) => messages.welcome.subject({ product: brand.productName }),
  Email({ data, view }) {
    const { brand, messages, format } = view;
    const m = messages.welcome;
    const credits = format.allowance(data.allowanceMicros);
    const facts = messages.common.facts;
    return (
      <EmailLayout
        view={view}
        subject={welcomeEmail.subject(data, view)}
        heading={m.heading({ product: brand.productName })}
        paragraphs={[m.intro({ product: brand.productName, tier: data.tierName }), m.allowance({ credits })]}
        facts={[
          { label: facts.plan, value: data.tierName },
          { label: facts.credits, value: credits },
        ]}
        cta={m.cta}
      />
    );
  },
};
