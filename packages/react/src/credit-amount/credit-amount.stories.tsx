import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect } from 'storybook/test';
import { CreditAmount, type CreditAmountProps } from './credit-amount.js';

/**
 * Storybook controls serialise args as JSON, which has no bigint, so the story takes `micros` as a
 * decimal string and converts it with `BigInt` in `render`.
 */
type CreditAmountStoryArgs = Omit<CreditAmountProps, 'micros'> & { micros: string };

function parseMicros(micros: string): bigint | undefined {
  try {
    return BigInt(micros.trim().replaceAll('_', ''));
  } catch {
    return undefined;
  }
}

const meta = {
  title: 'CreditAmount',
  args: { micros: '1234567890', unit: 'credits' },
  argTypes: {
    micros: {
      control: 'text',
      description: 'Amount in micros (1 credit = 1,000,000 micros), as an integer string; converted with BigInt.',
    },
    unit: { control: 'text', description: 'Text after the number; `null` shows the number alone.' },
    locale: { control: 'select', options: ['en-US', 'de-DE', 'fr-FR', 'en-IN', 'ja-JP'] },
    maxFractionDigits: { control: { type: 'number', min: 0, max: 6, step: 1 } },
    minFractionDigits: { control: { type: 'number', min: 0, max: 6, step: 1 } },
  },
  render: ({ micros, ...props }) => {
    const value = parseMicros(micros);
    if (value === undefined) return <p role="alert">micros must be an integer string, got “{micros}”.</p>;
    return <CreditAmount micros={value} {...props} />;
  },
} satisfies Meta<CreditAmountStoryArgs>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = {};

/** A debit: `data-sign="negative"` colours it with --tally-color-negative. */
export const Negative: Story = { args: { micros: '-2500000' } };

export const Zero: Story = { args: { micros: '0' } };

/** 2^53 + 1 micros: a float would round the last digit to 2; bigint keeps it exact. */
export const LargeAmount: Story = {
  args: { micros: '9007199254740993', maxFractionDigits: 6 },
  play: async ({ canvasElement }) => {
    const data = canvasElement.querySelector('data.tally-credit-amount');
    await expect(data).toHaveTextContent('9,007,199,254.740993 credits');
    await expect(data).toHaveAttribute('value', '9007199254740993');
  },
};

export const German: Story = { args: { micros: '1234567890', locale: 'de-DE', unit: 'Credits' } };

export const NumberOnly: Story = { args: { unit: null } };

export const Dark: Story = {
  args: { micros: '-2500000' },
  globals: { theme: 'dark' },
};
