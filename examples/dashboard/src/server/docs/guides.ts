/**
 * The guides: Markdown files in ./guides, rendered once when the module loads (they ship with the
 * code and never change while it runs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown } from './markdown.ts';

export interface Guide {
  slug: string;
  title: string;
  summary: string;
  html: string;
  headings: Array<{ id: string; text: string }>;
}

const GUIDE_LIST = [
  {
    slug: 'getting-started',
    summary: 'Run the demo, make the first calls, and read amounts, errors, retries and pages right.',
  },
  {
    slug: 'authentication',
    summary: 'Who may call which route, the demo sign-in, and Keycloak tokens in production with createKeycloakAuthenticate.',
  },
  {
    slug: 'webhooks',
    summary: 'Payment and Lago events: signatures, duplicates and order, retries and replays.',
  },
] as const;

function load(slug: string, summary: string): Guide {
  const source = readFileSync(join(import.meta.dirname, 'guides', `${slug}.md`), 'utf8');
  const { html, title, headings } = renderMarkdown(source);
  if (!title) throw new Error(`The guide ${slug}.md has no level-1 heading`);
  return { slug, title, summary, html, headings };
}

export const GUIDES: readonly Guide[] = Object.freeze(GUIDE_LIST.map(({ slug, summary }) => load(slug, summary)));

export function findGuide(slug: string): Guide | undefined {
  return GUIDES.find((guide) => guide.slug === slug);
}
