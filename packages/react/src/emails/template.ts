import type { EmailTemplateData, EmailTemplateId } from '@tally/core';
import type { ReactElement } from 'react';
import type { EmailView } from './layout.js';

/** One mail: its subject line and its body, both from the same data and view. */
export interface EmailTemplate<T extends EmailTemplateId> {
  subject(data: EmailTemplateData[T], view: EmailView): string;
  Email(props: { data: EmailTemplateData[T]; view: EmailView }): ReactElement;
}
