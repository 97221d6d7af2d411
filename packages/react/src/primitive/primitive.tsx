import { Slot } from '@radix-ui/react-slot';
import type { ComponentPropsWithRef, ElementType } from 'react';

/** The elements Tally parts render. */
export type PrimitiveTag = 'button' | 'div' | 'fieldset' | 'form' | 'input' | 'label' | 'li' | 'p' | 'section' | 'span' | 'ul';

/** A part's props: the element's own props plus `asChild`, which renders the single child instead, with these props merged in. */
export type PrimitiveProps<T extends PrimitiveTag> = ComponentPropsWithRef<T> & { asChild?: boolean };

/**
 * Renders `as`, or with `asChild` its only child element, merging props, event handlers and refs
 * into it (Radix's Slot), so a team can put a part's behaviour on its own `<a>` or design-system button.
 */
export function Primitive<T extends PrimitiveTag>({ as, asChild, ...props }: { as: T } & PrimitiveProps<T>) {
  const Component: ElementType = asChild ? Slot : as;
  return <Component {...props} />;
}
