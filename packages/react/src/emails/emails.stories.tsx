import type { Meta, StoryObj } from '@storybook/react-vite';
import { type EmailTemplateData, type EmailTemplateId, emailSample, type RenderedEmail } from '@tally/core';
import { type KeyboardEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { expect, userEvent, within } from 'storybook/test';
import { renderTallyEmail } from './index.js';
import { sampleContext } from './test-context.js';

/**
 * What an admin sees when previewing a mail: the subject, the HTML in a 600 px frame (as a mail
 * client shows it, isolated from the page's styles) and the plain-text version. Rendered by the real
 * `renderTallyEmail` with core's sample data, in a loader, since rendering a mail is asynchronous.
 */

/** The mails the stories show. Data stays here, not in args: bigint amounts cannot travel as story args. */
const SAMPLES = {
  welcome: { template: 'welcome', data: () => emailSample('welcome') },
  lowBalance: { template: 'low_balance', data: () => emailSample('low_balance') },
  monthlyReset: { template: 'monthly_reset', data: () => emailSample('monthly_reset') },
  couponCredits: { template: 'coupon_redeemed', data: () => emailSample('coupon_redeemed') },
  couponPercentOff: {
    template: 'coupon_redeemed',
    data: (): EmailTemplateData['coupon_redeemed'] => ({
      ...emailSample('coupon_redeemed'),
      code: 'SAVE25',
      benefit: { type: 'percent_off', percentOffBps: 2500, durationPeriods: 3 },
    }),
  },
  tierUpgraded: { template: 'tier_upgraded', data: () => emailSample('tier_upgraded') },
  tierDowngradeScheduled: { template: 'tier_downgraded', data: () => emailSample('tier_downgraded') },
  tierDowngradeEffective: {
    template: 'tier_downgraded',
    data: (): EmailTemplateData['tier_downgraded'] => ({
      ...emailSample('tier_downgraded'),
      timing: 'now',
      effectiveAt: new Date('2026-11-14T09:30:00Z'),
    }),
  },
  paymentFailed: { template: 'payment_failed', data: () => emailSample('payment_failed') },
  analyticsReport: { template: 'analytics_report', data: () => emailSample('analytics_report') },
} satisfies Record<string, { template: EmailTemplateId; data: () => EmailTemplateData[EmailTemplateId] }>;

type SampleName = keyof typeof SAMPLES;

interface EmailStoryArgs {
  sample: SampleName;
  /** BCP 47; the renderer has English and German, and falls back to English. */
  locale: string;
}

type Tab = 'html' | 'text';

/** Grows the frame to the mail's height, so the page scrolls instead of a box inside it. */
function useFitToContent() {
  const [height, setHeight] = useState(640);
  const observer = useRef<ResizeObserver | null>(null);
  useEffect(() => () => observer.current?.disconnect(), []);
  const onLoad = useCallback((event: { currentTarget: HTMLIFrameElement }) => {
    const frame = event.currentTarget;
    // The body, not <html>: the document element is never shorter than the frame, so it would only grow.
    const body = frame.contentDocument?.body;
    const View = frame.contentWindow as (Window & typeof globalThis) | null;
    if (!body || !View) return;
    observer.current?.disconnect();
    observer.current = new View.ResizeObserver(() => setHeight(body.scrollHeight));
    observer.current.observe(body);
    setHeight(body.scrollHeight);
  }, []);
  return { height, onLoad };
}

function EmailPreview({ email, label }: { email: RenderedEmail; label: string }) {
  const [tab, setTab] = useState<Tab>('html');
  const id = useId();
  const frame = useFitToContent();
  const tabs: Array<{ value: Tab; name: string }> = [
    { value: 'html', name: 'HTML' },
    { value: 'text', name: 'Plain text' },
  ];
  // Arrow keys move between the two tabs (WAI-ARIA tabs pattern); Tab moves on to the panel.
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const next: Tab = tab === 'html' ? 'text' : 'html';
    setTab(next);
    document.getElementById(`${id}-tab-${next}`)?.focus();
  };
  return (
    <section className="tally-card" aria-label={`${label} email preview`} style={{ maxWidth: 'calc(600px + 2rem + 2px)' }}>
      <p className="tally-muted" style={{ fontSize: '0.875rem' }}>
        Subject
      </p>
      <h2 className="tally-card__title">{email.subject}</h2>
      <div role="tablist" aria-label="Format" style={{ display: 'flex', gap: '0.5rem' }}>
        {tabs.map(({ value, name }) => (
          <button
            key={value}
            id={`${id}-tab-${value}`}
            type="button"
            role="tab"
            className="tally-button"
            data-variant={tab === value ? undefined : 'secondary'}
            aria-selected={tab === value}
            aria-controls={`${id}-panel-${value}`}
            tabIndex={tab === value ? 0 : -1}
            onClick={() => setTab(value)}
            onKeyDown={onKeyDown}
          >
            {name}
          </button>
        ))}
      </div>
      <div id={`${id}-panel-html`} role="tabpanel" aria-labelledby={`${id}-tab-html`} hidden={tab !== 'html'}>
        <iframe
          title={`${label} email, HTML version`}
          srcDoc={email.html}
          onLoad={frame.onLoad}
          style={{
            display: 'block',
            width: '100%',
            maxWidth: '600px',
            height: frame.height,
            border: '1px solid var(--tally-color-border)',
            background: '#fff',
          }}
        />
      </div>
      <div id={`${id}-panel-text`} role="tabpanel" aria-labelledby={`${id}-tab-text`} hidden={tab !== 'text'}>
        <pre
          style={{
            margin: 0,
            padding: '1rem',
            whiteSpace: 'pre-wrap',
            overflowWrap: 'anywhere',
            fontSize: '0.875rem',
            border: '1px solid var(--tally-color-border)',
            borderRadius: 'var(--tally-radius)',
            background: 'var(--tally-color-bg)',
          }}
        >
          {email.text}
        </pre>
      </div>
    </section>
  );
}

const LABELS: Record<SampleName, string> = {
  welcome: 'Welcome',
  lowBalance: 'Low balance',
  monthlyReset: 'Monthly credit reset',
  couponCredits: 'Coupon redeemed (credits)',
  couponPercentOff: 'Coupon redeemed (percent off)',
  tierUpgraded: 'Tier upgraded',
  tierDowngradeScheduled: 'Tier downgrade (scheduled)',
  tierDowngradeEffective: 'Tier downgrade (effective)',
  paymentFailed: 'Payment failed',
  analyticsReport: 'Analytics report (to admins)',
};

const meta = {
  title: 'Emails/Templates',
  tags: ['autodocs'],
  args: { sample: 'welcome', locale: 'en' },
  argTypes: {
    sample: { control: 'select', options: Object.keys(SAMPLES) },
    locale: { control: 'inline-radio', options: ['en', 'de'] },
  },
  loaders: [
    async ({ args }) => {
      const { template, data } = SAMPLES[args.sample];
      const locale = args.locale;
      return { email: await renderTallyEmail(template, data() as never, sampleContext(template, { locale })) };
    },
  ],
  render: (args, { loaded }) => <EmailPreview email={loaded.email as RenderedEmail} label={LABELS[args.sample]} />,
  parameters: {
    docs: {
      description: {
        component: `The notification mails of \`@tally/react/emails\` (seven to customers, the scheduled report to admins), rendered by \`renderTallyEmail\` with core's sample data
and brand: the subject, the HTML at 600 px and the plain text, both from one React element. Amounts come from bigint micros
and cents; dates are in UTC.

\`\`\`ts
import { renderTallyEmail } from '@tally/react/emails';

const { subject, html, text } = await renderTallyEmail('low_balance', data, { brand, locale: 'de', unsubscribeUrl, requiredReason: null });
\`\`\``,
      },
    },
  },
} satisfies Meta<EmailStoryArgs>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Welcome: Story = { args: { sample: 'welcome' } };
export const LowBalance: Story = { args: { sample: 'lowBalance' } };
export const LowBalanceGerman: Story = { name: 'Low balance (de)', args: { sample: 'lowBalance', locale: 'de' } };
export const MonthlyReset: Story = { args: { sample: 'monthlyReset' } };
export const CouponCredits: Story = { args: { sample: 'couponCredits' } };
export const CouponPercentOff: Story = { args: { sample: 'couponPercentOff' } };
export const TierUpgraded: Story = { args: { sample: 'tierUpgraded' } };
export const TierDowngradeScheduled: Story = { args: { sample: 'tierDowngradeScheduled' } };
export const TierDowngradeEffective: Story = { args: { sample: 'tierDowngradeEffective' } };
export const PaymentFailed: Story = { args: { sample: 'paymentFailed' } };
export const AnalyticsReport: Story = { args: { sample: 'analyticsReport' } };
export const AnalyticsReportGerman: Story = { name: 'Analytics report (de)', args: { sample: 'analyticsReport', locale: 'de' } };

/** The plain-text version, reached with the keyboard the way the tabs pattern works. */
export const PaymentFailedPlainText: Story = {
  name: 'Payment failed (plain text)',
  args: { sample: 'paymentFailed' },
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const html = canvas.getByRole('tab', { name: 'HTML' });
    html.focus();
    await userEvent.keyboard('{ArrowRight}');
    const text = canvas.getByRole('tab', { name: 'Plain text' });
    await expect(text).toHaveAttribute('aria-selected', 'true');
    await expect(text).toHaveFocus();
    await expect(canvas.getByRole('tabpanel')).toHaveTextContent('We could not charge $49.00 to your payment method.');
    await expect(canvas.getByRole('tabpanel')).toHaveTextContent('Update payment method https://app.example.com/billing');
  },
};
