import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { reportedCost, usdToNano } from './cost.js';
import { addText, emptyCount, estimatePromptTokens, tokensOf } from './estimate.js';

describe('usdToNano', () => {
  it.each([
    [0.00042, 420_000n],
    [0.000435, 435_000n],
    ['0.000435', 435_000n],
    [0.000021, 21_000n],
    [12, 12_000_000_000n],
    [1e-7, 100n], // String(1e-7) is "1e-7"
    [1.25e-6, 1_250n],
    [0.0000000015, 2n], // 1.5 nano-USD, half-up
    [0.0000000014, 1n],
    [1.5e-10, 1n], // positive, below half a nano-USD: never free
    [0, 0n],
    [0.1 + 0.2, 300_000_000n], // "0.30000000000000004": the extra digits round away once
  ])('%s USD → %s nano-USD', (input, expected) => {
    expect(usdToNano(input)).toBe(expected);
  });

  it.each([[-0.001], [Number.NaN], [Number.POSITIVE_INFINITY], ['1,5'], ['0x10'], [null], [undefined], [{}], ['']])(
    'is undefined for %s (not a usable report)',
    (input) => {
      expect(usdToNano(input)).toBeUndefined();
    },
  );

  it('reads OpenRouter metadata: usage.cost and, for BYOK, costDetails.upstreamInferenceCost', () => {
    expect(reportedCost({ openrouter: { usage: { cost: 0.000021, costDetails: { upstreamInferenceCost: 0.00042 } } } })).toEqual({
      cost: 21_000n,
      upstream: 420_000n,
    });
    expect(reportedCost({ openrouter: { usage: {} } })).toEqual({ cost: undefined, upstream: undefined });
    expect(reportedCost({ anthropic: { cacheCreationInputTokens: 5 } })).toEqual({ cost: undefined, upstream: undefined });
    expect(reportedCost(undefined)).toEqual({ cost: undefined, upstream: undefined });
  });
});

describe('token estimates', () => {
  it('count one token per 3 ASCII characters (rounded up) and one per other character', () => {
    const count = emptyCount();
    addText(count, 'Hello');
    expect(tokensOf(count)).toBe(2);
    addText(count, ' wo');
    expect(tokensOf(count)).toBe(3);
    const wide = emptyCount();
    addText(wide, '日本語'); // 3 CJK characters
    addText(wide, '😀'); // one character, two UTF-16 units
    expect(tokensOf(wide)).toBe(4);
  });

  it('estimate a prompt from every text, tool call, tool result, tool definition and file', () => {
    const params: LanguageModelV4CallOptions = {
      prompt: [
        { role: 'system', content: 'Be brief.' }, // 9 ASCII
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Wetter in Zürich?' }, // 16 ASCII + 1 other
            { type: 'file', mediaType: 'image/png', data: { type: 'data', data: new Uint8Array([1, 2, 3]) } },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Zurich' } }], // 7 + 17 ASCII
        },
        {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: { type: 'text', value: '4 C' } }], // 7 + 3
        },
      ],
      tools: [{ type: 'function', name: 'f', inputSchema: { type: 'object' } }],
    };
    const tools = JSON.stringify(params.tools).length;
    const ascii = 9 + 16 + 7 + '{"city":"Zurich"}'.length + 7 + 3 + tools;
    // + 1 non-ASCII character, + 4 per message × 4, + 3 per call, + 2000 for the image.
    expect(estimatePromptTokens(params, 2000)).toBe(Math.ceil(ascii / 3) + 1 + 16 + 3 + 2000);
    expect(estimatePromptTokens(params, 0)).toBe(Math.ceil(ascii / 3) + 1 + 16 + 3);
  });
});
