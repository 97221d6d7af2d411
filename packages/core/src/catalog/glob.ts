/**
 * Model patterns: `*` matches any run of characters (slashes included), `?` one character,
 * everything else itself. `openai/*`, `*:free`, `anthropic/claude-?-*`.
 */
export const GLOB_PATTERN = /^[A-Za-z0-9._:/@+*?-]+$/;

export function compileGlob(pattern: string): (value: string) => boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\/-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`);
  return (value) => regex.test(value);
}

/** Count of literal characters: the more, the more specific the pattern. */
export function globSpecificity(pattern: string): number {
  return pattern.replace(/[*?]/g, '').length;
}

/**
 * Whether some string matches both patterns. Used to refuse catalogs whose rules could
 * both apply to one model with nothing to decide between them.
 */
export function globsOverlap(a: string, b: string): boolean {
  const seen = new Map<number, boolean>();
  const width = b.length + 1;
  const visit = (i: number, j: number): boolean => {
    const key = i * width + j;
    const known = seen.get(key);
    if (known !== undefined) return known;
    seen.set(key, false);
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (i < a.length && a[i] === '*') result = visit(i + 1, j) || (j < b.length && visit(i, j + 1));
    else if (j < b.length && b[j] === '*') result = visit(i, j + 1) || (i < a.length && visit(i + 1, j));
    else if (i === a.length || j === b.length) result = false;
    else result = (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && visit(i + 1, j + 1);
    seen.set(key, result);
    return result;
  };
  return visit(0, 0);
}
