/**
 * JSON values written as source code: JavaScript object literals, Python literals and shell words.
 * Strings stay strings (amounts are decimal strings on the wire and must stay exact), short values
 * stay on one line, longer ones are broken one entry per line.
 */

const INLINE_WIDTH = 72;

export function jsString(value: string): string {
  return `'${value
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}'`;
}

const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JavaScript literal, indented as if it started at `indent`. */
export function jsLiteral(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return jsString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inline = `[${value.map((item) => jsLiteral(item)).join(', ')}]`;
    if (inline.length <= INLINE_WIDTH && !inline.includes('\n')) return inline;
    return `[\n${value.map((item) => `${inner}${jsLiteral(item, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const key = (name: string) => (JS_IDENTIFIER.test(name) ? name : jsString(name));
  const inline = `{ ${entries.map(([name, item]) => `${key(name)}: ${jsLiteral(item)}`).join(', ')} }`;
  if (inline.length <= INLINE_WIDTH && !inline.includes('\n')) return inline;
  return `{\n${entries.map(([name, item]) => `${inner}${key(name)}: ${jsLiteral(item, inner)},`).join('\n')}\n${indent}}`;
}

/** JSON string escapes are Python string escapes too. */
export const pyString = (value: string): string => JSON.stringify(value);

/** A Python literal (dicts, lists, str, int/float, True/False/None), indented by four spaces a level. */
export function pyLiteral(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return String(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inline = `[${value.map((item) => pyLiteral(item)).join(', ')}]`;
    if (inline.length <= INLINE_WIDTH && !inline.includes('\n')) return inline;
    return `[\n${value.map((item) => `${inner}${pyLiteral(item, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const inline = `{${entries.map(([name, item]) => `${pyString(name)}: ${pyLiteral(item)}`).join(', ')}}`;
  if (inline.length <= INLINE_WIDTH && !inline.includes('\n')) return inline;
  return `{\n${entries.map(([name, item]) => `${inner}${pyString(name)}: ${pyLiteral(item, inner)},`).join('\n')}\n${indent}}`;
}

/** One shell word in single quotes: nothing inside is expanded. */
export const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
