import type { TallyClient } from '@tally/core/client';
import { describe, expectTypeOf, it } from 'vitest';
import type { TallyClientLike } from './client.js';

describe('TallyClientLike', () => {
  it('is met by the client from @tally/core/client, so it can be passed to TallyProvider as is', () => {
    expectTypeOf<TallyClient>().toExtend<TallyClientLike>();
  });

  it('is not met by an object missing a method the widgets call', () => {
    expectTypeOf<Omit<TallyClient, 'previewTierChange'>>().not.toExtend<TallyClientLike>();
  });
});
