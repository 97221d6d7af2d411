/**
 * What the browser tests check on a page: axe-core's accessibility rules, sideways scrolling and touch
 * target sizes. All of it runs inside the page, on the story's own DOM (see `defineScope`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { ExpectStatic } from 'vitest';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The smallest touch target, in CSS pixels, on each side. */
export const MIN_TARGET_PX = 44;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string; summary: string }>;
}

type ScopedWindow = Window & { tallyStoryScope?: () => Element[] };

/**
 * Defines `tallyStoryScope()` in the page: the story's own DOM, i.e. #storybook-root plus whatever it
 * portalled to <body> (dialogs, toasts), but not Storybook's own placeholders.
 */
async function defineScope(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as ScopedWindow).tallyStoryScope = () => {
      const root = document.querySelector('#storybook-root');
      const portals = Array.from(document.body.children).filter(
        (el) => el !== root && el.id !== 'storybook-docs' && !el.matches('script, style, link, [class^="sb-"], [class*=" sb-"]'),
      );
      return root ? [root, ...portals] : portals;
    };
  });
}

type AxeRun = (context: unknown, options: unknown) => Promise<{ violations: unknown[] }>;
type RawViolation = {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
};

function toViolations(raw: unknown[]): AxeViolation[] {
  return (raw as RawViolation[]).map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({ target: node.target.join(' '), summary: node.failureSummary ?? '' })),
  }));
}

/**
 * Injects axe-core once per document (a story's width and theme changes keep the document): a second
 * copy of the 650 kB script would be parsed again and replace the first while it may be running.
 */
async function injectAxe(page: Page): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
}

/**
 * Injects axe-core and runs every rule of its default set (WCAG 2.x A/AA and best practices) on the
 * story's DOM. Page-level rules (title, lang, a main landmark) need <html> in scope and so don't apply.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await injectAxe(page);
  await defineScope(page);
  const raw = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: AxeRun } }).axe;
    const include = (window as ScopedWindow).tallyStoryScope?.() ?? [];
    const result = await axe.run(
      { include },
      // `region` asks for all content to sit in landmarks: that is the app's page, not a widget's.
      { rules: { region: { enabled: false } }, resultTypes: ['violations'] },
    );
    return result.violations;
  });
  return toViolations(raw);
}

/**
 * Every rule of axe's default set on the whole document, for a page of an app rather than a story:
 * page-level rules included (a title, `lang`, landmarks, all content inside them, one main).
 */
export async function axeDocumentViolations(page: Page): Promise<AxeViolation[]> {
  await injectAxe(page);
  const raw = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: AxeRun } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return toViolations(raw);
}

/** Violations as readable text: rule, impact, help link, and each offending node with axe's summary. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `• ${v.id} (${v.impact ?? 'n/a'}): ${v.help}\n  ${v.helpUrl}\n` +
        v.nodes.map((node) => `    ${node.target}\n      ${node.summary.replaceAll('\n', '\n      ')}`).join('\n'),
    )
    .join('\n');
}

export interface Layout {
  scrollWidth: number;
  innerWidth: number;
  /** Elements sticking out to the right, widest first (why the page scrolls sideways). */
  overflowing: string[];
  /** Visible interactive elements smaller than MIN_TARGET_PX on a side, described with size and position. */
  smallTargets: string[];
}

/**
 * Sideways scrolling (`scrollWidth` of <html> against the viewport) and the size of every visible
 * interactive element: links, buttons, form controls, `role=button`, focusable `tabindex`, `summary`,
 * and labels wrapping an input.
 */
export async function measureLayout(page: Page): Promise<Layout> {
  await defineScope(page);
  return page.evaluate((MIN) => {
    const describe = (el: Element) => {
      const rect = el.getBoundingClientRect();
      const id = el.id ? `#${el.id}` : '';
      const classes = Array.from(el.classList)
        .slice(0, 2)
        .map((name) => `.${name}`)
        .join('');
      const label = (el.getAttribute('aria-label') ?? el.textContent ?? el.getAttribute('name') ?? '').trim();
      const text = label ? ` "${label.replace(/\s+/g, ' ').slice(0, 40)}"` : '';
      return `${el.tagName.toLowerCase()}${id}${classes}${text} (${Math.round(rect.width)}×${Math.round(rect.height)} at ${Math.round(rect.left)},${Math.round(rect.top)})`;
    };
    const big = (el: Element) => {
      const rect = el.getBoundingClientRect();
      return rect.width >= MIN - 0.5 && rect.height >= MIN - 0.5;
    };
    const visible = (el: Element) => {
      const rect = el.getBoundingClientRect();
      return rect.width > 0 && rect.height > 0 && el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    };
    const roots = (window as ScopedWindow).tallyStoryScope?.() ?? [];
    const within = (selector: string) =>
      roots.flatMap((root) => [...(root.matches(selector) ? [root] : []), ...root.querySelectorAll(selector)]);

    const interactive = within(
      'a[href], button, input:not([type="hidden"]), select, textarea, [role="button"], [tabindex]:not([tabindex="-1"]), summary, label:has(input)',
    );
    const smallTargets = interactive
      .filter(visible)
      .filter((el) => !big(el))
      // A control whose label is a big enough target passes: tapping the label operates it.
      .filter((el) => !Array.from((el as HTMLInputElement).labels ?? []).some((label) => visible(label) && big(label)))
      .map(describe);

    const innerWidth = window.innerWidth;
    const overflowing = within('*')
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5 && visible(el))
      .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
      .slice(0, 5)
      .map(describe);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, overflowing, smallTargets };
  }, MIN_TARGET_PX);
}

/** What the charts and grids in the page measure: SVGs wider than their card, or drawn at no size. */
export async function chartProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const chart of document.querySelectorAll('.tally-admin-chart')) {
      const card = chart.closest('.tally-admin-card') as HTMLElement;
      const cardBox = card.getBoundingClientRect();
      const svgs = chart.querySelectorAll('svg.recharts-surface');
      const grid = chart.querySelector('.tally-admin-heatmap__grid');
      if (svgs.length === 0 && !grid) problems.push(`${card.className}: a chart view without a chart`);
      for (const svg of svgs) {
        const box = svg.getBoundingClientRect();
        if (box.width < 100 || box.height < 100) problems.push(`${card.className}: chart drawn at ${box.width}×${box.height}`);
        if (box.right > cardBox.right + 0.5)
          problems.push(`${card.className}: chart sticks out of its card by ${box.right - cardBox.right} px`);
      }
    }
    return problems;
  });
}

/**
 * The layout checks every page and story gets below the widest width, as soft expectations: no sideways
 * scroll (naming what sticks out) and every interactive target at least MIN_TARGET_PX on each side.
 * `expect` is the running test's own (tests that check several pages at once pass their context's).
 */
export async function expectLayout(expect: ExpectStatic, page: Page, where: string): Promise<void> {
  const layout = await measureLayout(page);
  expect
    .soft(
      layout.scrollWidth,
      `${where} scrolls sideways: ${layout.scrollWidth} px wide; sticking out:\n  ${layout.overflowing.join('\n  ')}`,
    )
    .toBeLessThanOrEqual(layout.innerWidth);
  expect.soft(layout.smallTargets, `${where}: interactive targets under ${MIN_TARGET_PX} × ${MIN_TARGET_PX} px`).toEqual([]);
}
