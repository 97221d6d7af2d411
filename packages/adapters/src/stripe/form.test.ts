import { describe, expect, it } from 'vitest';
import { parseForm } from './form.js';

describe('parseForm', () => {
  it('nests bracket keys the way stripe-node encodes them', () => {
    const body =
      'items[0][id]=si_1&items[0][price]=price_20&proration_behavior=always_invoice&proration_date=1794787200' +
      '&metadata[tallyCustomerId]=user_42&expand[0]=latest_invoice&expand[1]=customer&phases[1][duration][interval]=month';
    expect(parseForm(new URLSearchParams(body))).toEqual({
      items: [{ id: 'si_1', price: 'price_20' }],
      proration_behavior: 'always_invoice',
      proration_date: '1794787200',
      metadata: { tallyCustomerId: 'user_42' },
      expand: ['latest_invoice', 'customer'],
      phases: [undefined, { duration: { interval: 'month' } }],
    });
  });

  it('decodes values and appends empty brackets', () => {
    expect(parseForm(new URLSearchParams('query=metadata%5B%27a%27%5D%3A%27b%27&tags[]=x&tags[]=y&empty='))).toEqual({
      query: "metadata['a']:'b'",
      tags: ['x', 'y'],
      empty: '',
    });
  });
});
