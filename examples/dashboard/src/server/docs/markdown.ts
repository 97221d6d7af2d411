/**
 * A small Markdown-to-HTML renderer for the guides: ATX headings (with ids), paragraphs, fenced code,
 * bullet and numbered lists, block quotes, pipe tables, rules, and inline code, bold, italics and
 * links. Raw HTML is not passed through: every character of the source is escaped, so a guide can
 * show markup without the page running it. Links may only be relative, `#anchors`, `http(s):` or
 * `mailto:`.
 */

export interface RenderedMarkdown {
  html: string;
  /** The first level-1 heading's text. */
  title: string | null;
  /** Level-2 headings, for a table of contents. */
  headings: Array<{ id: string; text: string }>;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** `http(s):` and `mailto:`, or a URL without a scheme (a colon only after a `/`, `?` or `#`); never `//host`. */
function safeHref(url: string): boolean {
  if (/^(https?:|mailto:)/i.test(url)) return true;
  if (url.startsWith('//')) return false;
  const colon = url.indexOf(':');
  const delimiter = url.search(/[/?#]/);
  return colon === -1 || (delimiter !== -1 && delimiter < colon);
}

export function slugify(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/`/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'section'
  );
}

/** Inline markup of one line or paragraph. Code spans first, so nothing inside them is markup. */
export function renderInline(text: string): string {
  const parts = text.split(/(`+[^`]*?`+)/);
  return parts
    .map((part, index) => {
      if (index % 2 === 1) return `<code>${escapeHtml(part.replace(/^`+|`+$/g, ''))}</code>`;
      let html = escapeHtml(part);
      html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label: string, href: string) => {
        const url = href.replace(/&amp;/g, '&');
        if (!safeHref(url)) return whole;
        const external = /^https?:\/\//.test(url) ? ' rel="noopener noreferrer"' : '';
        return `<a href="${escapeHtml(url)}"${external}>${label}</a>`;
      });
      html = html.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
      html = html.replace(/(^|[\s(])\*([^*\s][^*]*)\*(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
      html = html.replace(/(^|[\s(])_([^_\s][^_]*)_(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
      return html;
    })
    .join('');
}

const FENCE = /^(```|~~~)\s*([A-Za-z0-9_+-]*)\s*$/;
const HEADING = /^(#{1,4})\s+(.+?)\s*#*\s*$/;
const BULLET = /^\s*[-*]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function tableCells(line: string): string[] {
  const trimmed = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  // A `\|` is a literal bar inside a cell.
  return trimmed.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

const startsBlock = (line: string, next: string | undefined) =>
  FENCE.test(line) ||
  HEADING.test(line) ||
  BULLET.test(line) ||
  NUMBERED.test(line) ||
  line.startsWith('>') ||
  /^\s*(-{3,}|\*{3,})\s*$/.test(line) ||
  (line.includes('|') && next !== undefined && TABLE_DIVIDER.test(next));

export function renderMarkdown(source: string): RenderedMarkdown {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  const headings: RenderedMarkdown['headings'] = [];
  const used = new Set<string>();
  let title: string | null = null;
  let i = 0;

  const uniqueId = (text: string) => {
    const base = slugify(text);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
  };

  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] as string).startsWith(fence[1] as string)) body.push(lines[i++] as string);
      i++;
      const language = fence[2] ? ` class="language-${escapeHtml(fence[2])}" data-language="${escapeHtml(fence[2])}"` : '';
      out.push(`<pre><code${language}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = (heading[1] as string).length;
      const text = heading[2] as string;
      const plain = text.replace(/`/g, '');
      const id = uniqueId(plain);
      if (level === 1 && title === null) title = plain;
      if (level === 2) headings.push({ id, text: plain });
      out.push(`<h${level} id="${id}">${renderInline(text)}</h${level}>`);
      i++;
      continue;
    }
    if (/^\s*(-{3,}|\*{3,})\s*$/.test(line)) {
      out.push('<hr>');
      i++;
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_DIVIDER.test(lines[i + 1] as string)) {
      const head = tableCells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && (lines[i] as string).includes('|') && (lines[i] as string).trim() !== '')
        rows.push(tableCells(lines[i++] as string));
      out.push(
        `<div class="table"><table><thead><tr>${head.map((cell) => `<th>${renderInline(cell)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((row) => `<tr>${head.map((_, c) => `<td>${renderInline(row[c] ?? '')}</td>`).join('')}</tr>`)
          .join('')}</tbody></table></div>`,
      );
      continue;
    }
    if (line.startsWith('>')) {
      const quoted: string[] = [];
      while (i < lines.length && (lines[i] as string).startsWith('>')) quoted.push((lines[i++] as string).replace(/^>\s?/, ''));
      out.push(`<blockquote>${renderMarkdown(quoted.join('\n')).html}</blockquote>`);
      continue;
    }
    const list = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null;
    if (list) {
      const items: string[] = [];
      while (i < lines.length) {
        const current = lines[i] as string;
        const item = list.exec(current);
        if (item) {
          items.push(item[1] as string);
          i++;
        } else if (/^\s{2,}\S/.test(current) && items.length > 0) {
          // An indented line continues the item above.
          items[items.length - 1] += ` ${current.trim()}`;
          i++;
        } else break;
      }
      const tag = list === BULLET ? 'ul' : 'ol';
      out.push(`<${tag}>${items.map((item) => `<li>${renderInline(item)}</li>`).join('')}</${tag}>`);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '' && !startsBlock(lines[i] as string, lines[i + 1])) {
      paragraph.push((lines[i++] as string).trim());
    }
    if (paragraph.length === 0) {
      // A line that looked like the start of a block but was not one (e.g. a lone `|`): plain text.
      paragraph.push((lines[i++] as string).trim());
    }
    out.push(`<p>${renderInline(paragraph.join(' '))}</p>`);
  }
  return { html: out.join('\n'), title, headings };
}
