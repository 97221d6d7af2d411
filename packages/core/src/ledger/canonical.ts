/**
 * Canonical JSON for idempotency: object keys sorted, bigints as decimal strings, dates as ISO text,
 * `undefined` fields dropped. Two payloads that mean the same thing give the same string.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of sortedKeys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = normalize(item);
    }
    return out;
  }
  return value;
}

/**
 * The object's own keys in code-unit order, as `Array.prototype.sort` orders strings. Sorted in place
 * by insertion: the objects here have a handful of keys, usually already in order, and the built-in
 * sort allocates a work area on every call (a fifth of what a memory-store call allocated).
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
