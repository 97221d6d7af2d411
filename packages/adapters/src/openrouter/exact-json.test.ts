import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalTextToScaled, JsonDecimal, nanoToJson, parseExactJson, stringifyExactJson, usdToNano } from './exact-json.js';

const nano = (text: string) => usdToNano(new JsonDecimal(text), 'amount');

describe('parseExactJson', () => {
  it('parses like JSON.parse but keeps every number as its text', () => {
    const text = '{"data":{"limit":0.1,"usage":25.5,"tiny":1e-7,"list":[1,-2.50,true,null,"x\\"y"],"nested":{}}}';
    const parsed = parseExactJson(text) as { data: Record<string, unknown> };
    expect(parsed.data.limit).toEqual(new JsonDecimal('0.1'));
    expect(parsed.data.tiny).toEqual(new JsonDecimal('1e-7'));
    expect(parsed.data.list).toEqual([new JsonDecimal('1'), new JsonDecimal('-2.50'), true, null, 'x"y']);
    expect(parsed.data.nested).toEqual({});
    const plain = JSON.parse(text);
    expect(JSON.stringify(parsed, (_key, value) => (value instanceof JsonDecimal ? Number(value.text) : value))).toBe(
      JSON.stringify(plain),
    );
  });

  it('keeps a "__proto__" key as data', () => {
    const parsed = parseExactJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['', '{', '{"a":}', '[1,]', '01', '1.', '{"a":1} x', 'nul', '"\\x"', '{"a" 1}'])('refuses malformed JSON %j', (text) => {
    expect(() => parseExactJson(text)).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('agrees with JSON.parse on random JSON (numbers compared as decimals)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const exact = parseExactJson(text);
        const back = JSON.stringify(exact, (_key, item) => (item instanceof JsonDecimal ? Number(item.text) : item));
        expect(back).toBe(JSON.stringify(JSON.parse(text)));
      }),
    );
  });
});

describe('USD amounts → nano-USD', () => {
  it('converts the decimal text exactly: 0.1 USD is 100,000 micro-USD', () => {
    expect(nano('0.1')).toBe(100_000_000n);
    expect(nano('0.1') / 1_000n).toBe(100_000n);
    expect(nano('0.1') % 1_000n).toBe(0n);
    expect(nano('74.5')).toBe(74_500_000_000n);
    expect(nano('0.00042')).toBe(420_000n);
    expect(nano('100')).toBe(100_000_000_000n);
    expect(nano('0')).toBe(0n);
    expect(nano('-0.25')).toBe(-250_000_000n);
  });

  it('reads exponents exactly', () => {
    expect(nano('1e-7')).toBe(100n);
    expect(nano('2.5E-6')).toBe(2_500n);
    expect(nano('1.5e2')).toBe(150_000_000_000n);
    expect(nano('4.2e-4')).toBe(nano('0.00042'));
  });

  it('rounds float artefacts beyond the 9th decimal half-up, once', () => {
    // 0.1 + 0.2 as a JavaScript sender would write it.
    expect(nano(String(0.1 + 0.2))).toBe(300_000_000n);
    expect(nano('0.0000000005')).toBe(1n);
    expect(nano('0.0000000004999')).toBe(0n);
    expect(nano('-0.0000000005')).toBe(-1n);
  });

  it('refuses what is not a number', () => {
    for (const text of ['abc', '1e999', '1e-999', '0x10', '', ' 1']) {
      expect(() => decimalTextToScaled(text, 9)).toThrowError(expect.objectContaining({ code: 'INVALID_DECIMAL' }));
    }
  });

  it('writes nano-USD back as an exact JSON number', () => {
    expect(stringifyExactJson({ limit: nanoToJson(100_000_000n), none: null, skipped: undefined, list: [nanoToJson(1n)] })).toBe(
      '{"limit":0.1,"none":null,"list":[0.000000001]}',
    );
    expect(() => stringifyExactJson({ limit: 1n })).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (amount) => {
        const parsed = parseExactJson(stringifyExactJson({ amount: nanoToJson(amount) })) as { amount: JsonDecimal };
        expect(usdToNano(parsed.amount, 'amount')).toBe(amount);
      }),
    );
  });
});
