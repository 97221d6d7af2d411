import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';
import { STORY_COUPONS } from '../../../../.storybook/tally-backend.js';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { CouponRedeemForm } from './coupon-redeem-form.js';

const meta = {
  title: 'Widgets/CouponRedeemForm',
  component: CouponRedeemForm,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `A coupon field: redeems the code, then says what it gave (credits, or a discount on the next invoices) or why not
(unknown, expired, used up, already redeemed, not for this plan). The balance widgets refresh on their own.

\`\`\`tsx
<CouponRedeemForm onRedeemed={(redemption) => toast(\`Redeemed \${redemption.code}\`)} />
\`\`\`

Parts: \`CouponRedeemForm.Root\`, \`.Label\`, \`.Input\`, \`.Submit\`, \`.Message\` (each with \`asChild\`).`,
      },
    },
  },
} satisfies Meta<typeof CouponRedeemForm>;

export default meta;
type Story = StoryObj<typeof meta>;

async function redeem(canvasElement: HTMLElement, code: string) {
  const canvas = within(canvasElement);
  await userEvent.type(canvas.getByLabelText('Coupon code'), code);
  await userEvent.click(canvas.getByRole('button', { name: 'Redeem' }));
}

export const Default: Story = scenario('healthy');
/** A credits coupon redeemed. */
export const Redeemed: Story = {
  ...scenario('healthy'),
  play: async ({ canvasElement }) => {
    await redeem(canvasElement, STORY_COUPONS.credits);
    await expect(await within(canvasElement).findByText(/5 credits added/, {}, { timeout: 5_000 })).toBeInTheDocument();
  },
};
/** A percent-off coupon redeemed. */
export const Discount: Story = {
  ...scenario('healthy'),
  play: async ({ canvasElement }) => {
    await redeem(canvasElement, STORY_COUPONS.percentOff);
    await expect(await within(canvasElement).findByText(/20% off your next 3 invoices/, {}, { timeout: 5_000 })).toBeInTheDocument();
  },
};
/** An expired code: the field is marked invalid and the reason is read out. */
export const Expired: Story = {
  ...scenario('healthy'),
  play: async ({ canvasElement }) => {
    await redeem(canvasElement, STORY_COUPONS.expired);
    await expect(await within(canvasElement).findByText('This code has expired.', {}, { timeout: 5_000 })).toBeInTheDocument();
  },
};
export const Dark: Story = { ...Expired, ...dark };
export const Mobile: Story = { ...Redeemed, ...mobile };
