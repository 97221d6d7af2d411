/** Display names of the providers Tally knows; another id is shown as it is. */
const PROVIDER_NAMES: Record<string, string> = {
  openrouter: 'OpenRouter',
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  google: 'Google',
};

export function providerName(id: string): string {
  return PROVIDER_NAMES[id] ?? id;
}
