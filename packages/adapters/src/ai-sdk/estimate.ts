import type { LanguageModelV4CallOptions, LanguageModelV4Content } from '@ai-sdk/provider';

/**
 * Token estimates for when no tokenizer answer exists: the worst case reserved before a call, and the
 * output of a stream cancelled before the provider reported usage.
 *
 * The rule: one token per 3 ASCII characters (rounded up), plus one token per other character
 * (code point). GPT, Claude and Llama tokenizers average about 4 ASCII characters per token on prose and
 * 3 on code or JSON, and about one token per CJK character, so the rule leans high: a reservation
 * seldom falls short, and an aborted stream is charged a little above what the model produced.
 */
export interface TextCount {
  ascii: number;
  other: number;
}

export const emptyCount = (): TextCount => ({ ascii: 0, other: 0 });

/** Adds `text`'s characters to `count`. */
export function addText(count: TextCount, text: string): void {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    // A surrogate pair is one character: count its high half only.
    else if (code < 0xdc00 || code > 0xdfff) other++;
  }
  count.ascii += ascii;
  count.other += other;
}

export const tokensOf = (count: TextCount): number => Math.ceil(count.ascii / 3) + count.other;

/** Per message: role and delimiters. Per call: the reply's priming. */
const MESSAGE_OVERHEAD = 4;
const CALL_OVERHEAD = 3;

function addValue(count: TextCount, value: unknown): void {
  if (value === undefined || value === null) return;
  addText(count, typeof value === 'string' ? value : JSON.stringify(value));
}

/**
 * A high estimate of a call's prompt tokens: every text, tool call, tool result and tool definition
 * by the rule above, `tokensPerFile` for each file or image, and a few tokens per message.
 */
export function estimatePromptTokens(params: LanguageModelV4CallOptions, tokensPerFile: number): number {
  const count = emptyCount();
  let extra = CALL_OVERHEAD;
  for (const message of params.prompt) {
    extra += MESSAGE_OVERHEAD;
    if (typeof message.content === 'string') {
      addText(count, message.content);
      continue;
    }
    for (const part of message.content) {
      switch (part.type) {
        case 'text':
        case 'reasoning':
          addText(count, part.text);
          break;
        case 'file':
        case 'reasoning-file':
          extra += tokensPerFile;
          break;
        case 'tool-call':
          addText(count, part.toolName);
          addValue(count, part.input);
          break;
        case 'tool-result': {
          addText(count, part.toolName);
          const output = part.output;
          if (output.type === 'content') {
            for (const item of output.value) {
              if (item.type === 'text') addText(count, item.text);
              else if (item.type === 'file') extra += tokensPerFile;
            }
          } else if (output.type === 'execution-denied') addValue(count, output.reason);
          else addValue(count, output.value);
          break;
        }
        case 'tool-approval-response':
          addValue(count, part.reason);
          break;
      }
    }
  }
  addValue(count, params.tools);
  if (params.responseFormat?.type === 'json') addValue(count, params.responseFormat.schema);
  return tokensOf(count) + extra;
}

/** Output and reasoning text of a finished generate result, for when the provider reported no usage. */
export function countContent(content: LanguageModelV4Content[]): { output: TextCount; reasoning: TextCount } {
  const output = emptyCount();
  const reasoning = emptyCount();
  for (const part of content) {
    if (part.type === 'text') addText(output, part.text);
    else if (part.type === 'reasoning') {
      addText(output, part.text);
      addText(reasoning, part.text);
    } else if (part.type === 'tool-call') addText(output, part.input);
  }
  return { output, reasoning };
}
