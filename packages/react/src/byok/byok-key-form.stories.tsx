import type { Meta, StoryObj } from '@storybook/react-vite';
import { dark, mobile, scenario, withTally } from '../testing/stories.js';
import { ByokKeyForm } from './byok-key-form.js';

const meta = {
  title: 'Widgets/ByokKeyForm',
  component: ByokKeyForm,
  tags: ['autodocs'],
  decorators: [withTally],
  parameters: {
    docs: {
      description: {
        component: `The customer's own provider keys: which are stored (last 4 characters only), a password field to add or replace one
(sent once, stored encrypted, never shown again) and a remove button per key. Calls with the customer's own key cost no credits.

\`\`\`tsx
<ByokKeyForm providers={[{ id: 'openrouter', name: 'OpenRouter' }]} />
\`\`\``,
      },
    },
  },
} satisfies Meta<typeof ByokKeyForm>;

export default meta;
type Story = StoryObj<typeof meta>;

/** An OpenRouter key is stored. */
export const WithKey: Story = scenario('healthy');
/** No key yet. */
export const Empty: Story = scenario('empty-history');
export const Loading: Story = scenario('slow');
export const ServerError: Story = scenario('server-error');
export const Dark: Story = { ...scenario('healthy'), ...dark };
export const Mobile: Story = { ...scenario('healthy'), ...mobile };
