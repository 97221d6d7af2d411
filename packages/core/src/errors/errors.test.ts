import { describe, expect, it } from 'vitest';
import { TallyError } from './index.js';

describe('TallyError', () => {
  it('carries a stable code and is recognised by TallyError.is', () => {
    const error = new TallyError('INSUFFICIENT_CREDITS', 'Not enough credits', { details: { needed: '5' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TallyError');
    expect(TallyError.is(error)).toBe(true);
    expect(TallyError.is(error, 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(TallyError.is(error, 'NOT_FOUND')).toBe(false);
  });

  it('recognises an error from another copy of the package through the global symbol', () => {
    // What a second bundle of @tally/core would create: a different class with the same marker.
    class OtherCopy extends Error {
      readonly code = 'NOT_FOUND';
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, Symbol.for('tally.error'), { value: true });
      }
    }
    const foreign = new OtherCopy('missing');
    expect(foreign instanceof TallyError).toBe(false);
    expect(TallyError.is(foreign, 'NOT_FOUND')).toBe(true);
  });

  it('rejects look-alikes without the marker', () => {
    expect(TallyError.is(new Error('x'))).toBe(false);
    expect(TallyError.is({ code: 'NOT_FOUND' })).toBe(false);
    expect(TallyError.is(null)).toBe(false);
    expect(TallyError.is('TallyError')).toBe(false);
  });
});
