import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';

/** The oracle: JSON.stringify with a replacer that rebuilds each object from its keys in built-in sort order. */
function reference(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, written: unknown) {
    const raw = this[key];
    if (typeof raw === 'bigint') return raw.toString();
    if (raw instanceof Date) return raw.toISOString();
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return written;
    return Object.fromEntries(
      Object.keys(raw)
        .sort()
        .map((name) => [name, (raw as Record<string, unknown>)[name]]),
    );
  });
}

/** A small seeded generator (mulberry32), so a failure names the case that reproduces it. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Keys whose order differs between naive comparisons: integer-like keys (which Object.keys lists
// first, numerically), case, accents, characters outside the BMP (surrogate pairs), the empty key.
const KEYS = ['', ...'0 1 2 9 10 01 -1 a B b Z _ é e ä 😀 \uffff amount amountMicros at'.split(' ')];

describe('canonicalJson', () => {
  // Integer-like keys come out first and in numeric order, as JavaScript lists them on any object:
  // still one string per payload.
  it('sorts keys at every depth and writes bigints and dates as text', () => {
    const value = {
      usage: { outputTokens: 52n, inputTokens: 31n, model: 'm' },
      amountMicros: 1_000n,
      at: new Date('2026-11-27T10:00:00.000Z'),
      10: 'ten',
      9: 'nine',
      skipped: undefined,
      items: [{ b: 1, a: 2 }],
    };
    expect(canonicalJson(value)).toBe(
      '{"9":"nine","10":"ten","amountMicros":"1000","at":"2026-11-27T10:00:00.000Z","items":[{"a":2,"b":1}],' +
        '"usage":{"inputTokens":"31","model":"m","outputTokens":"52"}}',
    );
  });

  it('gives the same string for the same payload whatever order its keys were written in', () => {
    expect(canonicalJson({ a: 1, b: { d: 2n, c: 3 } })).toBe(canonicalJson({ b: { c: 3, d: 2n }, a: 1 }));
  });

  it('matches the built-in sort on 2,000 random objects of awkward keys', () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const random = generator(seed);
      const object: Record<string, unknown> = {};
      const count = Math.floor(random() * KEYS.length);
      for (let i = 0; i < count; i++) {
        const key = KEYS[Math.floor(random() * KEYS.length)] as string;
        object[key] = random() < 0.2 ? { [KEYS[Math.floor(random() * KEYS.length)] as string]: i, z: 0, y: 1n } : i;
      }
      const expected = reference(object);
      if (canonicalJson(object) !== expected) {
        throw new Error(`seed ${seed}: ${canonicalJson(object)} !== ${expected}`);
      }
    }
  });
});
