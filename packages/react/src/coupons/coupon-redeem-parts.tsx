import { createContext, type FormEvent, type ReactNode, useContext, useId, useMemo, useState } from 'react';
import { Primitive, type PrimitiveProps } from '../primitive/primitive.js';
import type { TallyMutation } from '../provider/query.js';
import type { WireRedemption } from '../provider/wire.js';
import { useRedeemCoupon } from './hooks.js';

export interface CouponRedeemContextValue {
  code: string;
  setCode(code: string): void;
  redeem: TallyMutation<[code: string], WireRedemption>;
  inputId: string;
  messageId: string;
}

const Context = createContext<CouponRedeemContextValue | null>(null);

function useCouponRedeem(part: string): CouponRedeemContextValue {
  const value = useContext(Context);
  if (!value) throw new Error(`CouponRedeem.${part} must be inside CouponRedeem.Root`);
  return value;
}

export interface CouponRedeemRootProps extends Omit<PrimitiveProps<'form'>, 'onSubmit'> {
  /** Called after a successful redemption (the balance is already fresh). */
  onRedeemed?: (redemption: WireRedemption) => void;
}

/** A form that redeems the code typed into `CouponRedeem.Input`; `data-state` is the request's state. */
function Root({ onRedeemed, ...props }: CouponRedeemRootProps) {
  const [code, setCodeState] = useState('');
  const redeem = useRedeemCoupon();
  const inputId = useId();
  const messageId = useId();
  const value = useMemo<CouponRedeemContextValue>(
    () => ({
      code,
      // Editing after an outcome clears it: the message was about the previous code.
      setCode: (next) => {
        setCodeState(next);
        if (redeem.status !== 'idle' && redeem.status !== 'pending') redeem.reset();
      },
      redeem,
      inputId,
      messageId,
    }),
    [code, redeem, inputId, messageId],
  );
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = code.trim();
    if (!trimmed || redeem.status === 'pending') return;
    try {
      const redemption = await redeem.mutate(trimmed);
      setCodeState('');
      onRedeemed?.(redemption);
    } catch {
      // The error is in redeem.error for the Message part.
    }
  };
  return (
    <Context.Provider value={value}>
      <Primitive as="form" noValidate data-state={redeem.status} onSubmit={submit} {...props} />
    </Context.Provider>
  );
}

/** The code field, marked `aria-invalid` after a refused code and described by the message. */
function Input(props: PrimitiveProps<'input'>) {
  const { code, setCode, redeem, inputId, messageId } = useCouponRedeem('Input');
  return (
    <Primitive
      as="input"
      id={inputId}
      type="text"
      name="code"
      autoComplete="off"
      autoCapitalize="characters"
      spellCheck={false}
      value={code}
      onChange={(event) => setCode(event.currentTarget.value)}
      aria-invalid={redeem.status === 'error' || undefined}
      aria-describedby={messageId}
      {...props}
    />
  );
}

/** A label bound to the input. */
function Label(props: PrimitiveProps<'label'>) {
  const { inputId } = useCouponRedeem('Label');
  return <Primitive as="label" htmlFor={inputId} {...props} />;
}

/** Submits; `aria-disabled` while the field is empty or a redemption is in flight (it stays focusable). */
function Submit(props: PrimitiveProps<'button'>) {
  const { code, redeem } = useCouponRedeem('Submit');
  const blocked = !code.trim() || redeem.status === 'pending';
  return <Primitive as="button" type="submit" aria-disabled={blocked || undefined} data-state={redeem.status} {...props} />;
}

export interface CouponRedeemMessageProps extends Omit<PrimitiveProps<'p'>, 'children'> {
  children: (outcome: { redemption: WireRedemption | undefined; error: Error | null; pending: boolean }) => ReactNode;
}

/** A live region that describes the input: the outcome of the last redemption. */
function Message({ children, ...props }: CouponRedeemMessageProps) {
  const { redeem, messageId } = useCouponRedeem('Message');
  return (
    <Primitive as="p" id={messageId} role="status" data-state={redeem.status} {...props}>
      {children({ redemption: redeem.data, error: redeem.error, pending: redeem.status === 'pending' })}
    </Primitive>
  );
}

export { Input, Label, Message, Root, Submit };
