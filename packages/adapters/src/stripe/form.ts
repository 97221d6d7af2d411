/** A form-encoded Stripe request as nested values: `items[0][price]=p` → `{ items: [{ price: 'p' }] }`. */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

const KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

function isContainer(value: FormValue | undefined): value is FormValue[] | FormObject {
  return typeof value === 'object' && value !== null;
}

/**
 * Parses `application/x-www-form-urlencoded` bodies (and query strings) with bracket keys, the way
 * stripe-node encodes params. A numeric or empty segment makes an array; other segments make objects.
 */
export function parseForm(params: URLSearchParams): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of params) {
    const match = KEY.exec(rawKey);
    if (!match?.[1]) continue;
    const segments = [match[1], ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] ?? '')];
    let container: FormValue[] | FormObject = root;
    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index] ?? '';
      const last = index === segments.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(segments[index + 1] ?? '');
      const slot: number | string = Array.isArray(container) ? (segment === '' ? container.length : Number(segment)) : segment;
      const read = (): FormValue | undefined => (Array.isArray(container) ? container[slot as number] : container[slot as string]);
      const write = (next: FormValue) => {
        if (Array.isArray(container)) container[slot as number] = next;
        else container[slot as string] = next;
      };
      if (last) {
        write(value);
        break;
      }
      let child = read();
      if (!isContainer(child)) {
        child = nextIsIndex ? [] : {};
        write(child);
      }
      container = child;
    }
  }
  return root;
}
