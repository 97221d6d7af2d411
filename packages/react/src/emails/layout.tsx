import { Body, Button, Column, Container, Head, Heading, Html, Img, Link, Preview, Row, Section, Text } from '@react-email/components';
import type { EmailBrand, NotificationCategory } from '@tally/core';
import type { CSSProperties } from 'react';
import type { EmailFormat } from './locale.js';
import type { EmailMessages } from './messages.js';

/**
 * The frame every mail shares: brand header, a content card at most 600 px wide that shrinks with the
 * screen, and the footer. Tables and inline styles only (what Outlook's Word engine and Gmail keep);
 * no <style>, media queries, flexbox or CSS variables. The page and card set their own background
 * and text colours, so clients that darken mails invert a complete palette instead of half of one.
 */

/** What a template needs besides its data: brand, words and formats for the locale, the footer's links. */
export interface EmailView {
  brand: EmailBrand;
  messages: EmailMessages;
  format: EmailFormat;
  /** `admin`: a mail to the app's admins (a scheduled report), which no customer category governs. */
  audience: 'customer' | 'admin';
  /** Null for an admin mail. */
  category: NotificationCategory | null;
  unsubscribeUrl: string | null;
  requiredReason: string | null;
  /** The name to greet: the customer's, or an admin recipient's. */
  customerName: string | null;
}

/** One line of the summary table. */
export interface EmailFact {
  label: string;
  value: string;
}

/** A titled summary table, under the first one (a report has several). */
export interface EmailFactGroup {
  heading: string;
  facts: EmailFact[];
}

export interface EmailLayoutProps {
  view: EmailView;
  /** Also the document's <title>. */
  subject: string;
  heading: string;
  /** Sentences, one paragraph each; the first is the inbox preview text. */
  paragraphs: string[];
  facts?: EmailFact[];
  /** More summary tables, each under its heading, after `facts` and `notes`. */
  factGroups?: EmailFactGroup[];
  /** Sentences after the summary tables. */
  notes?: string[];
  /** The button's label; shown when there is a link (`ctaHref`, else the brand's dashboard URL). */
  cta?: string;
  /** Where the button goes; default the brand's dashboard URL. */
  ctaHref?: string | null;
  /** The mail shows dates: say they are UTC. */
  showsDates?: boolean;
}

const PAGE = '#f4f4f5';
const CARD = '#ffffff';
const INK = '#18181b';
const MUTED = '#52525b';
const RULE = '#e4e4e7';
const FACTS = '#fafafa';
const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** Outlook spaces px line heights oddly unless told to take them exactly (caniemail's advice); React writes it as `mso-line-height-rule`. */
const exactLines = { msoLineHeightRule: 'exactly' } as CSSProperties;
const paragraph: CSSProperties = { ...exactLines, fontFamily: FONT, fontSize: '16px', lineHeight: '24px', color: INK, margin: '0 0 16px' };
const small: CSSProperties = {
  ...exactLines,
  fontFamily: FONT,
  fontSize: '13px',
  lineHeight: '20px',
  color: MUTED,
  margin: '0 0 8px',
  textAlign: 'center',
};
const factCell: CSSProperties = {
  ...exactLines,
  fontFamily: FONT,
  fontSize: '14px',
  lineHeight: '20px',
  padding: '8px 12px',
  verticalAlign: 'top',
};
const footerLink: CSSProperties = { color: MUTED, textDecoration: 'underline' };
const groupHeading: CSSProperties = { ...paragraph, fontSize: '18px', lineHeight: '26px', fontWeight: 700, margin: '8px 0 8px' };

function Header({ brand }: { brand: EmailBrand }) {
  return (
    <Row>
      <Column style={{ padding: '24px 24px 8px' }}>
        {brand.logoUrl ? (
          <Img src={brand.logoUrl} alt={brand.productName} height={40} style={{ height: '40px', width: 'auto', maxWidth: '200px' }} />
        ) : (
          <Text style={{ ...paragraph, fontSize: '20px', lineHeight: '28px', fontWeight: 700, margin: 0 }}>{brand.productName}</Text>
        )}
      </Column>
    </Row>
  );
}

/** Label and value side by side; short enough for two columns at 320 px. */
function Facts({ facts }: { facts: EmailFact[] }) {
  return (
    <Section style={{ backgroundColor: FACTS, border: `1px solid ${RULE}`, borderRadius: '6px', margin: '8px 0 24px' }}>
      {facts.map((fact) => (
        <Row key={fact.label} data-text-format="dataTable">
          <Column style={{ ...factCell, color: MUTED }}>{fact.label}</Column>
          <Column align="right" style={{ ...factCell, color: INK, fontWeight: 600 }}>
            {fact.value}
          </Column>
        </Row>
      ))}
    </Section>
  );
}

/** 16 px text with 14 px above and below: 47 px tall, over the 44 px a finger needs. */
function CallToAction({ brand, href, label }: { brand: EmailBrand; href: string | null; label: string }) {
  if (!href) return null;
  return (
    <Section style={{ margin: '8px 0 24px' }}>
      <Row>
        <Column>
          <Button
            href={href}
            style={{
              backgroundColor: brand.primaryColor,
              color: brand.primaryTextColor,
              fontFamily: FONT,
              fontSize: '16px',
              fontWeight: 700,
              padding: '14px 28px',
              borderRadius: '6px',
            }}
          >
            {label}
          </Button>
        </Column>
      </Row>
    </Section>
  );
}

function Footer({ view }: { view: EmailView }) {
  const { brand, messages } = view;
  const common = messages.common;
  return (
    <Section>
      <Row>
        <Column style={{ padding: '24px 24px 8px' }}>
          {brand.supportEmail ? (
            <Text style={small}>
              {common.support}{' '}
              <Link href={`mailto:${brand.supportEmail}`} style={footerLink}>
                {brand.supportEmail}
              </Link>
            </Text>
          ) : null}
          <Text style={small}>
            {view.audience === 'admin' ? common.adminReason(brand.productName) : common.accountReason(brand.productName)}
          </Text>
          {view.unsubscribeUrl && view.category ? (
            <Text style={small}>
              <Link href={view.unsubscribeUrl} style={footerLink}>
                {common.unsubscribe[view.category]}
              </Link>
            </Text>
          ) : null}
          {view.requiredReason ? <Text style={small}>{common.required(view.requiredReason)}</Text> : null}
          <Text style={small}>{brand.footerAddress}</Text>
        </Column>
      </Row>
    </Section>
  );
}

export function EmailLayout({ view, subject, heading, paragraphs, facts, factGroups, notes, cta, ctaHref, showsDates }: EmailLayoutProps) {
  const { brand, messages, format } = view;
  const common = messages.common;
  return (
    <Html lang={format.locale} dir="ltr">
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{subject}</title>
      </Head>
      <Preview>{paragraphs[0] ?? heading}</Preview>
      <Body style={{ backgroundColor: PAGE, margin: 0, padding: '24px 8px' }}>
        <Container style={{ maxWidth: '600px', width: '100%' }}>
          <Section style={{ backgroundColor: CARD, borderTop: `4px solid ${brand.primaryColor}`, borderRadius: '8px' }}>
            <Header brand={brand} />
            <Row>
              <Column style={{ padding: '8px 24px 24px' }}>
                <Heading as="h1" style={{ ...paragraph, fontSize: '24px', lineHeight: '32px', fontWeight: 700, margin: '0 0 16px' }}>
                  {heading}
                </Heading>
                <Text style={paragraph}>{common.greeting(view.customerName)}</Text>
                {paragraphs.map((sentence) => (
                  <Text key={sentence} style={paragraph}>
                    {sentence}
                  </Text>
                ))}
                {facts?.length ? <Facts facts={facts} /> : null}
                {factGroups?.map((group) => (
                  <Section key={group.heading}>
                    <Heading as="h2" style={groupHeading}>
                      {group.heading}
                    </Heading>
                    {group.facts.length ? <Facts facts={group.facts} /> : null}
                  </Section>
                ))}
                {notes?.map((sentence) => (
                  <Text key={sentence} style={paragraph}>
                    {sentence}
                  </Text>
                ))}
                {cta ? <CallToAction brand={brand} href={ctaHref === undefined ? brand.dashboardUrl : ctaHref} label={cta} /> : null}
                <Text style={{ ...paragraph, margin: 0 }}>
                  {common.signOffLead}
                  <br />
                  {common.signOff(brand.productName)}
                </Text>
                {showsDates ? (
                  <Text style={{ ...paragraph, fontSize: '13px', lineHeight: '20px', color: MUTED, margin: '16px 0 0' }}>
                    {common.datesInUtc}
                  </Text>
                ) : null}
              </Column>
            </Row>
          </Section>
          <Footer view={view} />
        </Container>
      </Body>
    </Html>
  );
}
