import { useCallback, useEffect, useRef, useState } from 'react';

export interface ControllableStateOptions<T> {
  /** The controlled value; `undefined` leaves the state to the component. */
  prop: T | undefined;
  defaultProp: T;
  onChange?: ((value: T) => void) | undefined;
}

/**
 * One state for both controlled (`prop` + `onChange`) and uncontrolled (`defaultProp`) use, as
 * Radix parts have it: the setter always reports a change, and keeps it only when uncontrolled.
 */
export function useControllableState<T>({ prop, defaultProp, onChange }: ControllableStateOptions<T>): [T, (next: T) => void] {
  const [own, setOwn] = useState(defaultProp);
  const controlled = prop !== undefined;
  const value = controlled ? prop : own;
  // The latest onChange without making the setter change identity on every render.
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });
  const setValue = useCallback(
    (next: T) => {
      if (!controlled) setOwn(next);
      if (!Object.is(next, value)) onChangeRef.current?.(next);
    },
    [controlled, value],
  );
  return [value, setValue];
}
