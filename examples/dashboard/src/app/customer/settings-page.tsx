import { ByokKeyForm, NotificationPreferences } from '@tally/react';
import { Page } from '../page.tsx';
import { SpendCapsForm } from './spend-caps-form.tsx';

/** Emails, the customer's own provider key and spend caps. */
export function SettingsPage() {
  return (
    <Page title="Settings" intro="Which emails you get, your own provider key and how much you may spend.">
      <div className="dash-grid">
        <NotificationPreferences />
        <ByokKeyForm />
        <SpendCapsForm />
      </div>
    </Page>
  );
}
