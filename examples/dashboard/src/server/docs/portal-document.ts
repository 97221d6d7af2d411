/**
 * The document the portal serves: the handler's OpenAPI document with code samples on every
 * operation, this API as its server (so "Test Request" calls it), links to the guides in its
 * introduction, and readable names for the scope tags.
 */
import { withCodeSamples } from './code-samples.ts';
import { GUIDES } from './guides.ts';

const TAG_NAMES: Record<string, string> = { public: 'Public', customer: 'Customer', admin: 'Admin', webhook: 'Webhooks' };

const GUIDE_LINKS = `Guides: ${GUIDES.map((guide) => `[${guide.title}](/docs/guides/${guide.slug})`).join(' · ')}.`;

export function portalDocument(source: object, baseUrl: string): Record<string, unknown> {
  const document = withCodeSamples(source, { baseUrl }) as Record<string, unknown>;
  document.servers = [{ url: baseUrl, description: 'This Tally API' }];
  const info = typeof document.info === 'object' && document.info !== null ? (document.info as Record<string, unknown>) : {};
  document.info = { ...info, description: `${typeof info.description === 'string' ? `${info.description}\n\n` : ''}${GUIDE_LINKS}` };
  if (Array.isArray(document.tags)) {
    document.tags = document.tags.map((tag: unknown) => {
      const name = (tag as { name?: unknown }).name;
      return typeof name === 'string' && TAG_NAMES[name] ? { ...(tag as object), 'x-displayName': TAG_NAMES[name] } : tag;
    });
  }
  return document;
}
