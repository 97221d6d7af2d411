/**
 * Every template's HTML against caniemail.com's support data for Gmail, Outlook and Apple Mail.
 *
 * caniemail reports a feature as unsupported (`none`) or partially supported (`partial`, with notes
 * saying what does not work). The policy here:
 * - Unsupported: fails, except the few features in ACCEPTED_UNSUPPORTED, each of which a client
 *   simply ignores without changing the layout (say why next to each).
 * - Partial: fails unless listed in ACCEPTED_PARTIAL. Where a note names the values that break (no
 *   negative margins, no `rem` font sizes, no `display:flex`, …), `styleProblems` checks that the mail
 *   uses none of them, so an accepted title cannot hide a broken value.
 * - The inbox preview line (react-email's <Preview>) is hidden with several properties at once, each
 *   unsupported somewhere; it is checked on its own: every client must support at least one way of
 *   hiding it.
 */
import {
  EMAIL_TEMPLATES,
  type EmailRenderContext,
  type EmailTemplateData,
  type EmailTemplateId,
  emailSample,
  emailSamples,
} from '@tally/core';
import { caniemail } from 'caniemail';
import { describe, expect, it } from 'vitest';
import { renderTallyEmail } from './index.js';
import { sampleContext } from './test-context.js';

// caniemail exports its client and issue types only through its results.
type IssueMap = ReturnType<typeof caniemail>['issues']['errors'];
type EmailClient = IssueMap extends Map<infer Client, unknown> ? Client : never;

/**
 * Gmail (web, apps, mobile web), Outlook (Windows desktop, Windows Mail, macOS, Outlook.com) and
 * Apple Mail (macOS, iOS).
 */
const CLIENTS: EmailClient[] = [
  'gmail.desktop-webmail',
  'gmail.ios',
  'gmail.android',
  'gmail.mobile-webmail',
  'outlook.windows',
  'outlook.windows-mail',
  'outlook.macos',
  'outlook.outlook-com',
  'apple-mail.macos',
  'apple-mail.ios',
];

/** Unsupported somewhere, and harmless there. */
const ACCEPTED_UNSUPPORTED: Record<string, string> = {
  'target attribute': 'react-email opens links in a new tab; clients that drop `target` open them in one anyway.',
  'border-radius': 'Outlook on Windows draws square corners on the card and button; nothing moves.',
  'role attribute': 'role="presentation" on layout tables is for screen readers; a client that drops it shows the same layout.',
  'text-decoration-line':
    "react-email's <Link> resets it; every link in the mails also sets `text-decoration`, which Outlook reads (see styleProblems).",
  '<body> element': 'Outlook for macOS replaces <body>; react-email repeats the body background and padding on the wrapping table cell.',
  outline: '<Img> resets `outline` (logo); Outlook draws no outline around images anyway, so ignoring the reset changes nothing.',
};

/** Partially supported; the parts that are not supported are either unused here or checked in `styleProblems`. */
const ACCEPTED_PARTIAL: Record<string, string> = {
  'dir attribute': 'Only dir="ltr" on <html>; the notes concern dir on links and right-to-left text.',
  '<body> element': 'Clients replace <body> with a <div>; the styles that matter are on the wrapping table cell.',
  margin: 'Only zero or positive px margins, never `auto` (checked), and none on <span> or <body> that layout relies on.',
  padding: 'Padding sits on table cells (checked); the button <a> also gets MSO spacing from react-email for Outlook.',
  background: 'Only background-color (checked).',
  display: 'Only block and inline-block (checked); no flex or grid.',
  'line-height':
    "Text has px line heights with mso-line-height-rule:exactly, as the note advises; the button's percentage line heights come with react-email's MSO text raise.",
  'max-width':
    'The 600 px limit is on the container table, which Outlook honours; Apple Mail on iOS ignores it on tables, but phone screens are narrower than 600 px. The button also has max-width:100%, only to keep a long label on narrow screens.',
  'width attribute': 'Only width="100%" on layout tables and no percentage widths on images.',
  'height attribute': 'The logo has a fixed px height; the note is about 120 dpi scaling, which scales the whole mail alike.',
  'height property': 'Only on the logo <img>; the note excludes body, span, div and p.',
  'width property':
    'width:100% on tables and rows, and width:auto on the logo <img>: the brand gives no logo width, so Outlook, which ignores it there, sizes the logo from its height attribute and the file.',
  border: 'Borders of 1 and 4 px on tables only (checked: at most 8 px, never on <p> or <div>).',
  'font-size': 'px only (checked): no rem, percentage or relative sizes.',
  'font-weight': 'Only 600 and 700, which Outlook shows as bold, as intended.',
  'text-align': 'Only left, center and right (checked): no start, end or match-parent.',
  'target attribute': 'Links open in a new window anyway.',
  'text-decoration': 'Single values only (checked); a client that drops underlines still shows link text in its own colour.',
  'align attribute': 'align="right" only on table cells and align="center" on tables (checked): the note is about left/right on <table>.',
};

/**
 * The ways the preview line is hidden: each is a set of caniemail features and the declaration that
 * uses it. A client hides the line when the preview uses every declaration of a way and the client
 * supports each of its features.
 */
const PREVIEW_HIDING: Array<Array<[title: string, declaration: RegExp]>> = [
  [['display:none', /display:\s*none/]],
  [
    ['max-height property', /max-height:\s*0(px)?\b/],
    ['overflow', /overflow:\s*hidden/],
  ],
];

interface Problem {
  client: EmailClient;
  support: 'none' | 'partial' | 'full';
  title: string;
  notes: string[];
}

function issuesOf(html: string): Problem[] {
  const { issues } = caniemail({ clients: CLIENTS, html });
  const problems: Problem[] = [];
  for (const map of [issues.errors, issues.warnings]) {
    for (const [client, list] of map) {
      for (const issue of list) problems.push({ client, support: issue.support, title: issue.title, notes: issue.notes });
    }
  }
  return problems;
}

/** react-email's preview line: a hidden <div> (with one nested <div> of padding) before the body table. */
const PREVIEW = /<div style="display:none[^"]*" data-skip-in-text="true">[\s\S]*?<\/div><\/div>/;

/** caniemail problems that the policy above does not accept, as readable lines. */
function unsupportedFeatures(html: string): string[] {
  const preview = html.match(PREVIEW)?.[0];
  const body = preview ? html.replace(preview, '') : html;
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const problem of issuesOf(body)) {
    const accepted = problem.support === 'none' ? ACCEPTED_UNSUPPORTED[problem.title] : ACCEPTED_PARTIAL[problem.title];
    if (accepted) continue;
    const line = `${problem.title} is ${problem.support === 'none' ? 'not supported' : 'only partly supported'} by ${problem.client}${problem.notes.length ? ` (${problem.notes.join(' ')})` : ''}`;
    if (!seen.has(line)) lines.push(line);
    seen.add(line);
  }
  if (preview) {
    const missing = new Map<EmailClient, Set<string>>();
    for (const problem of issuesOf(`<html><body>${preview}</body></html>`)) {
      if (problem.support !== 'none') continue;
      missing.set(problem.client, (missing.get(problem.client) ?? new Set()).add(problem.title));
    }
    for (const client of CLIENTS) {
      const unsupported = missing.get(client) ?? new Set<string>();
      const hides = PREVIEW_HIDING.some((way) => way.every(([title, declaration]) => declaration.test(preview) && !unsupported.has(title)));
      if (!hides) lines.push(`${client} cannot hide the preview line`);
    }
  }
  return lines;
}

/** Every inline style declaration outside conditional comments and the preview line, with its element. */
function declarations(html: string): Array<{ tag: string; property: string; value: string }> {
  const visible = html.replace(/<!--[\s\S]*?-->/g, '').replace(PREVIEW, '');
  const found: Array<{ tag: string; property: string; value: string }> = [];
  for (const [, tag = '', style = ''] of visible.matchAll(/<([a-z0-9]+)\b[^>]*?\sstyle="([^"]*)"/g)) {
    for (const declaration of style.split(';')) {
      const colon = declaration.indexOf(':');
      if (colon < 0) continue;
      found.push({ tag, property: declaration.slice(0, colon).trim(), value: declaration.slice(colon + 1).trim() });
    }
  }
  return found;
}

/** The values the partial-support notes warn about (see ACCEPTED_PARTIAL). */
function styleProblems(html: string): string[] {
  const problems: string[] = [];
  for (const { tag, property, value } of declarations(html)) {
    const where = `<${tag} style="${property}:${value}">`;
    if (property === 'display' && !['block', 'inline-block'].includes(value))
      problems.push(`${where}: only block and inline-block display everywhere`);
    if (property.startsWith('margin') && /(^|\s)(-|auto)/.test(value)) problems.push(`${where}: negative or auto margin`);
    // Zero padding is a reset (react-email's <Body> zeroes the body's), not spacing Outlook must draw.
    if (property.startsWith('padding') && !/^0(px)?$/.test(value) && !['td', 'a'].includes(tag))
      problems.push(`${where}: Outlook pads only table cells`);
    if (property === 'font-size' && !/^\d+(\.\d+)?px$/.test(value)) problems.push(`${where}: font sizes in px only`);
    if (property === 'text-align' && !['left', 'center', 'right'].includes(value))
      problems.push(`${where}: text-align left, center or right`);
    if ((property === 'background' || property.startsWith('background-')) && property !== 'background-color') {
      problems.push(`${where}: only background-color`);
    }
    if (property.startsWith('border') && !property.includes('radius')) {
      if (['p', 'div'].includes(tag)) problems.push(`${where}: Outlook borders are unreliable on <p> and <div>`);
      for (const [, width = '0'] of value.matchAll(/(\d+(?:\.\d+)?)px/g))
        if (Number(width) > 8) problems.push(`${where}: borders over 8 px`);
    }
    if (property === 'text-decoration' && value.trim().split(/\s+/).length > 1) problems.push(`${where}: one text-decoration value`);
    if (/^(position|float|flex|grid|gap)/.test(property) || value.includes('var(') || value.includes('calc(')) {
      problems.push(`${where}: layout or CSS feature mail clients drop`);
    }
  }
  for (const [link, style = ''] of html.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<a\b[^>]*?\sstyle="([^"]*)"[^>]*>/g)) {
    if (!/(^|;)text-decoration:/.test(style))
      problems.push(`${link}: a link without text-decoration (Outlook ignores text-decoration-line)`);
  }
  for (const [table] of html.matchAll(/<table\b[^>]*\salign="(left|right)"[^>]*>/g)) problems.push(`${table}: left/right align on a table`);
  if (/<style[\s>]/.test(html)) problems.push('a <style> element: Gmail drops it for non-Google accounts');
  return problems;
}

const LOGO_BRAND = { logoUrl: 'https://cdn.example.com/tally-logo.png' };

/** Every template with its sample data, plus the variants that render different parts. */
const CASES: Array<{ name: string; template: EmailTemplateId; data: EmailTemplateData[EmailTemplateId]; context: EmailRenderContext }> = [
  ...EMAIL_TEMPLATES.map((template) => ({ name: template, template, data: emailSamples()[template], context: sampleContext(template) })),
  {
    name: 'welcome with a logo',
    template: 'welcome',
    data: emailSample('welcome'),
    context: sampleContext('welcome', { brand: LOGO_BRAND }),
  },
  {
    name: 'tier_downgraded in effect now',
    template: 'tier_downgraded',
    data: { ...emailSample('tier_downgraded'), timing: 'now' },
    context: sampleContext('tier_downgraded'),
  },
  {
    name: 'coupon_redeemed with a percentage off',
    template: 'coupon_redeemed',
    data: { ...emailSample('coupon_redeemed'), benefit: { type: 'percent_off', percentOffBps: 2500, durationPeriods: 3 } },
    context: sampleContext('coupon_redeemed'),
  },
  {
    name: 'payment_failed in German',
    template: 'payment_failed',
    data: emailSample('payment_failed'),
    context: sampleContext('payment_failed', { locale: 'de' }),
  },
];

describe('caniemail: Gmail, Outlook and Apple Mail', () => {
  it.for(CASES)('$name uses nothing they do not support', async ({ template, data, context }) => {
    const { html } = await renderTallyEmail(template, data as never, context);
    expect(unsupportedFeatures(html)).toEqual([]);
    expect(styleProblems(html)).toEqual([]);
  });

  it('every accepted feature still occurs, so the lists stay honest', async () => {
    const titles = new Set<string>();
    for (const { template, data, context } of CASES) {
      const { html } = await renderTallyEmail(template, data as never, context);
      for (const problem of issuesOf(html.replace(PREVIEW, ''))) titles.add(problem.title);
    }
    expect(Object.keys(ACCEPTED_UNSUPPORTED).filter((title) => !titles.has(title))).toEqual([]);
    expect(Object.keys(ACCEPTED_PARTIAL).filter((title) => !titles.has(title))).toEqual([]);
  });

  it('flags flexbox, and a <style> with position:absolute', () => {
    const flex = '<html><body><table><tr><td><div style="display:flex;gap:8px"><p>a</p><p>b</p></div></td></tr></table></body></html>';
    expect(unsupportedFeatures(flex)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^display:flex is not supported by outlook\.windows\b/)]),
    );
    expect(styleProblems(flex)).toEqual([
      '<div style="display:flex">: only block and inline-block display everywhere',
      '<div style="gap:8px">: layout or CSS feature mail clients drop',
    ]);
    const positioned =
      '<html><head><style>.badge { position: absolute; top: 0 }</style></head><body><p class="badge">New</p></body></html>';
    expect(unsupportedFeatures(positioned)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^position is not supported by gmail\.desktop-webmail\b/),
        expect.stringMatching(/^position is not supported by outlook\.windows\b/),
        expect.stringMatching(/^<style> element is not supported by gmail\.mobile-webmail\b/),
      ]),
    );
    expect(styleProblems(positioned)).toEqual(['a <style> element: Gmail drops it for non-Google accounts']);
  });

  it('flags the values the accepted partial notes warn about', () => {
    const html =
      '<html><body><table align="left"><tr><td><a href="https://x.test" style="text-decoration-line:none">x</a><p style="margin:-4px 0;font-size:1.2rem;text-align:start;border:10px solid #000;text-decoration:underline overline;background-image:url(https://x.test/a.png)">x</p></td></tr></table></body></html>';
    expect(styleProblems(html)).toEqual([
      '<p style="margin:-4px 0">: negative or auto margin',
      '<p style="font-size:1.2rem">: font sizes in px only',
      '<p style="text-align:start">: text-align left, center or right',
      '<p style="border:10px solid #000">: Outlook borders are unreliable on <p> and <div>',
      '<p style="border:10px solid #000">: borders over 8 px',
      '<p style="text-decoration:underline overline">: one text-decoration value',
      '<p style="background-image:url(https://x.test/a.png)">: only background-color',
      '<a href="https://x.test" style="text-decoration-line:none">: a link without text-decoration (Outlook ignores text-decoration-line)',
      '<table align="left">: left/right align on a table',
    ]);
  });

  it('flags a preview line that some client cannot hide', () => {
    // display:none alone: Gmail in a mobile browser ignores it, and nothing else (max-height:0 with
    // overflow:hidden) hides the line there.
    const shown =
      '<html><body><div style="display:none;opacity:0" data-skip-in-text="true">Preview<div> </div></div><p>Body</p></body></html>';
    expect(unsupportedFeatures(shown)).toEqual(['gmail.mobile-webmail cannot hide the preview line']);
    const hidden = shown.replace('display:none;opacity:0', 'display:none;overflow:hidden;max-height:0;opacity:0');
    expect(unsupportedFeatures(hidden)).toEqual([]);
  });
});
