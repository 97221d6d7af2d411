import { divideRoundHalfUp, formatNanoUsd, NANO_USD_SCALE, TallyError } from '@tally/core';

/**
 * OpenRouter sends USD amounts (`limit`, `usage`, `total_credits`, `total_cost`, …) as JSON numbers.
 * `JSON.parse` would turn `0.1` into a binary float; this module reads JSON with every number kept
 * as its source text, so amounts are converted from the decimal digits OpenRouter wrote.
 */

/** A JSON number, kept as the exact text it was written with (`"0.1"`, `"1e-7"`, `"25.5"`). */
export class JsonDecimal {
  constructor(readonly text: string) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

function invalid(message: string, at: number): TallyError {
  return new TallyError('VALIDATION', `Invalid JSON: ${message} at ${at}`, { details: { at } });
}

/**
 * Parses JSON text like `JSON.parse`, except that every number becomes a `JsonDecimal`.
 * Malformed text is a `VALIDATION` error.
 */
export function parseExactJson(text: string): unknown {
  let at = 0;

  function skip(): void {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  }

  function string(): string {
    const start = at;
    at++;
    while (at < text.length) {
      const char = text[at];
      if (char === '\\') at += 2;
      else if (char === '"') {
        at++;
        try {
          return JSON.parse(text.slice(start, at)) as string;
        } catch {
          throw invalid('bad string', start);
        }
      } else at++;
    }
    throw invalid('unterminated string', start);
  }

  function literal(word: string, value: unknown): unknown {
    if (!text.startsWith(word, at)) throw invalid('unexpected token', at);
    at += word.length;
    return value;
  }

  function value(depth: number): unknown {
    if (depth > 64) throw invalid('nesting too deep', at);
    skip();
    const char = text[at];
    if (char === '{') {
      at++;
      const result: Record<string, unknown> = {};
      skip();
      if (text[at] === '}') {
        at++;
        return result;
      }
      for (;;) {
        skip();
        if (text[at] !== '"') throw invalid('expected a key', at);
        const key = string();
        skip();
        if (text[at] !== ':') throw invalid('expected ":"', at);
        at++;
        Object.defineProperty(result, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return result;
        }
        throw invalid('expected "," or "}"', at);
      }
    }
    if (char === '[') {
      at++;
      const result: unknown[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return result;
      }
      for (;;) {
        result.push(value(depth + 1));
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return result;
        }
        throw invalid('expected "," or "]"', at);
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true', true);
    if (char === 'f') return literal('false', false);
    if (char === 'n') return literal('null', null);
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) throw invalid('unexpected token', at);
    at = NUMBER.lastIndex;
    return new JsonDecimal(match[0]);
  }

  const result = value(0);
  skip();
  if (at !== text.length) throw invalid('trailing characters', at);
  return result;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** Exponents beyond this are no real amount; refusing them keeps `10n ** n` small. */
const MAX_EXPONENT = 400;

/**
 * A decimal text (exponent allowed) as an integer of `scale` decimal places. Exact when the text has
 * at most `scale` decimals; otherwise rounded half-up, once, at the last kept place.
 */
export function decimalTextToScaled(text: string, scale: number, label = 'amount'): bigint {
  const match = DECIMAL.exec(text);
  if (!match) throw new TallyError('INVALID_DECIMAL', `${label} "${text}" is not a decimal number`, { details: { input: text } });
  const [, minus, whole = '0', fraction = '', exponent = '0'] = match;
  if (!(Math.abs(Number(exponent)) <= MAX_EXPONENT)) {
    throw new TallyError('INVALID_DECIMAL', `${label} "${text}" is out of range`, { details: { input: text } });
  }
  const shift = Number(exponent) - fraction.length + scale;
  const digits = BigInt(whole + fraction);
  const magnitude = shift >= 0 ? digits * 10n ** BigInt(shift) : divideRoundHalfUp(digits, 10n ** BigInt(-shift));
  return minus ? -magnitude : magnitude;
}

/**
 * A USD JSON number → nano-USD (1e-9 USD). Exact for every amount with at most 9 decimals, which
 * covers every price × token count OpenRouter bills; longer texts such as `0.30000000000000004` can
 * only be binary-float artefacts of the sender and are rounded half-up once at the 9th decimal.
 */
export function usdToNano(value: JsonDecimal, label: string): bigint {
  return decimalTextToScaled(value.text, NANO_USD_SCALE, label);
}

/** Nano-USD as a JSON number written exactly, e.g. `100_000_000n` → `0.1`. */
export function nanoToJson(nanoUsd: bigint): JsonDecimal {
  return new JsonDecimal(formatNanoUsd(nanoUsd));
}

/** `JSON.stringify` for plain data in which a `JsonDecimal` is written as its number text. */
export function stringifyExactJson(value: unknown): string {
  if (value instanceof JsonDecimal) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : stringifyExactJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const members = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${JSON.stringify(key)}:${stringifyExactJson(item)}`);
    return `{${members.join(',')}}`;
  }
  if (typeof value === 'bigint') throw new TallyError('VALIDATION', 'A bigint needs a unit before it goes into JSON');
  return JSON.stringify(value) ?? 'null';
}
