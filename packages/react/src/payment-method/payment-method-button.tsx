import { type ReactNode, useId } from 'react';
import { cx } from '../primitive/class-names.js';
import { Primitive, type PrimitiveProps } from '../primitive/primitive.js';
import { useTally } from '../provider/provider.js';
import { describeError } from '../status/messages.js';
import { usePaymentMethodPortal } from './hooks.js';

export interface PaymentMethodButtonProps extends Omit<PrimitiveProps<'button'>, 'children'> {
  /** Where the billing portal sends the customer back. Default: the current page. */
  returnUrl?: string;
  /** The label. Default "Manage payment method". */
  children?: ReactNode;
}

/**
 * Opens the payment provider's billing portal for the customer's card (through the provider's
 * `navigate`). While the session is created the button is busy; a failure is said next to it.
 */
export function PaymentMethodButton({
  returnUrl,
  children = 'Manage payment method',
  className,
  onClick,
  asChild,
  ...props
}: PaymentMethodButtonProps) {
  const { navigate } = useTally();
  const portal = usePaymentMethodPortal();
  const errorId = useId();
  const pending = portal.status === 'pending';
  return (
    <span className="tally-inline-action">
      <Primitive
        as="button"
        asChild={asChild}
        type="button"
        className={cx('tally-button', className)}
        aria-busy={pending || undefined}
        aria-describedby={portal.error ? errorId : undefined}
        onClick={async (event) => {
          onClick?.(event);
          if (event.defaultPrevented || pending) return;
          try {
            const { url } = await portal.mutate({ returnUrl: returnUrl ?? window.location.href });
            navigate(url);
          } catch {
            // Shown below from portal.error.
          }
        }}
        {...props}
      >
        {/* With asChild the child is the element itself: keep it. */}
        {pending && !asChild ? 'Opening…' : children}
      </Primitive>
      {portal.error ? (
        <span id={errorId} className="tally-note" data-tone="negative" role="alert">
          {describeError(portal.error)}
        </span>
      ) : null}
    </span>
  );
}
