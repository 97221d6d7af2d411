import { describe, expect, it } from 'vitest';
import { GUIDES } from './guides.ts';
import { renderInline, renderMarkdown } from './markdown.ts';

describe('renderMarkdown', () => {
  it('renders headings with ids, paragraphs, lists, tables, quotes and code', () => {
    const { html, title, headings } = renderMarkdown(
      [
        '# The `title`',
        '',
        'First line',
        'second line with **bold**, *italic* and `code`.',
        '',
        '## Setup',
        '',
        '- one',
        '- two',
        '  continued',
        '',
        '1. first',
        '2. second',
        '',
        '| a | b |',
        '|---|---|',
        '| `x \\| y` | 2 |',
        '',
        '> quoted',
        '',
        '```ts',
        'const a = 1 < 2;',
        '```',
        '',
        '## Setup',
      ].join('\n'),
    );
    expect(title).toBe('The title');
    expect(headings).toEqual([
      { id: 'setup', text: 'Setup' },
      { id: 'setup-2', text: 'Setup' },
    ]);
    expect(html).toContain('<h1 id="the-title">The <code>title</code></h1>');
    expect(html).toContain('<p>First line second line with <strong>bold</strong>, <em>italic</em> and <code>code</code>.</p>');
    expect(html).toContain('<ul><li>one</li><li>two continued</li></ul>');
    expect(html).toContain('<ol><li>first</li><li>second</li></ol>');
    expect(html).toContain('<th>a</th><th>b</th>');
    expect(html).toContain('<td><code>x | y</code></td><td>2</td>');
    expect(html).toContain('<blockquote><p>quoted</p></blockquote>');
    expect(html).toContain('<pre><code class="language-ts" data-language="ts">const a = 1 &lt; 2;</code></pre>');
  });

  it('escapes raw HTML instead of passing it through', () => {
    const { html } = renderMarkdown('<script>alert(1)</script> and <b onclick="x">b</b>');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b ');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('links only safe URLs', () => {
    expect(renderInline('[guide](/docs/guides/webhooks)')).toBe('<a href="/docs/guides/webhooks">guide</a>');
    expect(renderInline('[site](https://example.com/?a=1&b=2)')).toBe(
      '<a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer">site</a>',
    );
    expect(renderInline('[x](javascript:alert(1))')).not.toContain('<a');
    expect(renderInline('[x](//evil.example)')).not.toContain('<a');
    expect(renderInline('[x](data:text/html,hi)')).not.toContain('<a');
  });

  it('leaves underscores inside words and code alone', () => {
    expect(renderInline('tally_demo and `_x_` but _this_')).toBe('tally_demo and <code>_x_</code> but <em>this</em>');
  });
});

describe('the guides', () => {
  it('are the three the portal links to, each titled and with sections', () => {
    expect(GUIDES.map((guide) => guide.slug)).toEqual(['getting-started', 'authentication', 'webhooks']);
    for (const guide of GUIDES) {
      expect(guide.title.length).toBeGreaterThan(3);
      expect(guide.headings.length).toBeGreaterThan(2);
      expect(guide.html).not.toMatch(/<(script|iframe|img)\b/);
    }
  });

  it('link only to pages the portal serves, or to absolute URLs', () => {
    const served = new Set(['/docs', '/redoc', '/docs/guides', ...GUIDES.map((guide) => `/docs/guides/${guide.slug}`)]);
    for (const guide of GUIDES) {
      for (const [, href] of guide.html.matchAll(/href="([^"]+)"/g)) {
        if (href?.startsWith('http')) continue;
        expect(served.has((href ?? '').split('#')[0] as string), `${guide.slug}: ${href}`).toBe(true);
      }
    }
  });
});
