import type { EmailFact } from '../layout.js';
import { EmailLayout } from '../layout.js';
import type { EmailTemplate } from '../template.js';

/** Sent when a customer redeems a coupon: credits added, or a discount on the next invoices. */
export const couponRedeemedEmail: EmailTemplate<'coupon_redeemed'> = {
  subject: (data, { messages }) => messages.couponRedeemed.subject({ code: data.code }),
  Email({ data, view }) {
    const { messages, format } = view;
    const m = messages.couponRedeemed;
    const facts = messages.common.facts;
    const { benefit, code } = data;
    let paragraphs: string[];
    let summary: EmailFact[];
    if (benefit.type === 'credits') {
      const credits = format.credits(benefit.amountMicros);
      const expires = benefit.expiresAt ? format.date(benefit.expiresAt) : null;
      paragraphs = [m.credits({ code, credits }), expires ? m.expires({ date: expires }) : m.noExpiry];
      summary = [
        { label: facts.code, value: code },
        { label: facts.credits, value: credits },
        ...(expires ? [{ label: facts.expires, value: expires }] : []),
      ];
    } else {
      const periods = {
        percent: format.percent(benefit.percentOffBps),
        periods: benefit.durationPeriods,
        periodsText: format.count(benefit.durationPeriods),
      };
      paragraphs = [m.percentOff({ code, ...periods })];
      summary = [
        { label: facts.code, value: code },
        { label: facts.benefit, value: m.percentOffBenefit(periods) },
      ];
    }
    return (
      <EmailLayout
        view={view}
        subject={couponRedeemedEmail.subject(data, view)}
        heading={m.heading}
        paragraphs={paragraphs}
        facts={summary}
        cta={m.cta}
        showsDates={benefit.type === 'credits' && benefit.expiresAt !== null}
      />
    );
  },
};
