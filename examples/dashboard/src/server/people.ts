/**
 * Who the sample customers are to people: a made-up name and a mailbox at example.com. Tally stores
 * neither (an app knows its users); the demo derives both from the customer id, the same each time.
 */
import type { TallyStore } from '@tally/core';
import { DEMO_CUSTOMER } from './seed.ts';

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Edsger',
  'Radia',
  'Donald',
  'Hedy',
  'Tim',
  'Shafi',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Knuth',
  'Lamarr',
  'Berners-Lee',
  'Goldwasser',
];

/** FNV-1a over the id's UTF-16 units: a stable, well-spread number for picking a name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function displayName(customerId: string): string {
  if (customerId === DEMO_CUSTOMER) return 'Demo Customer';
  const h = hash(customerId);
  return `${FIRST[h % FIRST.length]} ${LAST[(h >>> 8) % LAST.length]}`;
}

/** `<id>@example.com`, with anything a mailbox name can't hold replaced. */
export function mailbox(customerId: string): string {
  const local = customerId
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 64);
  return `${local || 'customer'}@example.com`;
}

export interface PickerCustomer {
  id: string;
  tier: string;
  name: string;
}

const MAX_LISTED = 200;

/** The sign-in picker: the demo's own customer first, then the others in id order (at most 200). */
export async function pickerCustomers(store: TallyStore): Promise<PickerCustomer[]> {
  const entry = (customer: { id: string; tier: string }) => ({ id: customer.id, tier: customer.tier, name: displayName(customer.id) });
  const demo = await store.getCustomer(DEMO_CUSTOMER);
  const listed: PickerCustomer[] = demo ? [entry(demo)] : [];
  let cursor: string | null = null;
  do {
    const page = await store.listCustomers({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const customer of page.items) if (customer.id !== DEMO_CUSTOMER) listed.push(entry(customer));
    cursor = page.nextCursor;
  } while (cursor && listed.length < MAX_LISTED);
  return listed.slice(0, MAX_LISTED);
}
