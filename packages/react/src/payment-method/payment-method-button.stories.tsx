import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { PaymentMethodButton } from './payment-method-button.js';

const meta = {
  title: 'Widgets/PaymentMethodButton',
  component: PaymentMethodButton,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `Opens the payment provider's billing portal for the customer's card, through the provider's \`navigate\`
(default: \`window.location.assign\`). Busy while the session is created; a failure is said next to it.

\`\`\`tsx
<PaymentMethodButton />
<PaymentMethodButton asChild returnUrl="https://app.example.com/billing"><a href="#card">Change card</a></PaymentMethodButton>
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof PaymentMethodButton>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = scenario('past-due');
/** Rendered as the app's own link through `asChild`. */
export const AsChild: Story = {
  ...scenario('healthy'),
  args: {
    asChild: true,
    className: 'tally-link',
    children: <a href="#payment-method">Change card</a>,
  },
};
/** The portal could not be opened. */
export const ServerError: Story = {
  ...scenario('server-error'),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await userEvent.click(canvas.getByRole('button', { name: 'Manage payment method' }));
    // The client retries a 500 twice with backoff before giving up.
    await expect(await canvas.findByRole('alert', {}, { timeout: 10_000 })).toBeInTheDocument();
  },
};
export const Dark: Story = { ...scenario('healthy'), ...dark };
export const Mobile: Story = { ...scenario('healthy'), ...mobile };
