import * as Dialog from '@radix-ui/react-dialog';
import {
  type ComponentPropsWithoutRef,
  createContext,
  type MouseEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from 'react';
import { useControllableState } from '../primitive/controllable-state.js';
import { Primitive, type PrimitiveProps } from '../primitive/primitive.js';
import { useTally } from '../provider/provider.js';
import type { TallyMutation, TallyQueryResult } from '../provider/query.js';
import type { WireTierChangePreview, WireTierChangeResult } from '../provider/wire.js';
import { useChangeTier, useTierChangePreview } from './hooks.js';

/** `idle` (no tier picked), `loading`, `ready` or `error`: the preview's `data-state`. */
export type TierPreviewState = 'idle' | 'loading' | 'ready' | 'error';

export interface TierUpgradeContextValue {
  open: boolean;
  setOpen(open: boolean): void;
  /** The picked tier; null until one is picked. */
  tier: string | null;
  setTier(tier: string | null): void;
  /** The customer's tier, which can't be picked. */
  current: string | null;
  preview: TallyQueryResult<WireTierChangePreview>;
  previewState: TierPreviewState;
  change: TallyMutation<[tier: string, options?: { idempotencyKey?: string }], WireTierChangeResult>;
  /** The confirmed change's outcome; null before. */
  result: WireTierChangeResult | null;
  /** Changes to the picked tier (the preview must be ready). */
  confirm(): Promise<void>;
  /** Radio group name for the options. */
  name: string;
}

const Context = createContext<TierUpgradeContextValue | null>(null);

/** The state of the `TierUpgrade.Root` around it, for custom parts. */
export function useTierUpgrade(): TierUpgradeContextValue {
  const value = useContext(Context);
  if (!value) throw new Error('TierUpgrade parts must be inside TierUpgrade.Root');
  return value;
}

export interface TierUpgradeRootProps {
  open?: boolean;
  defaultOpen?: boolean;
  onOpenChange?: (open: boolean) => void;
  /** The picked tier (controlled); null for none. */
  tier?: string | null;
  defaultTier?: string | null;
  onTierChange?: (tier: string | null) => void;
  /** The customer's current tier (marks its option `data-current` and disables it). */
  current?: string | null;
  /**
   * Called with the outcome of a confirmed change. Without it, a checkout or payment-method URL is
   * opened with the provider's `navigate`; with it, that is up to you.
   */
  onResult?: (result: WireTierChangeResult) => void;
  children?: ReactNode;
}

/**
 * Holds the open state (controlled or not), the picked tier, its live proration preview and the
 * confirm action; renders a Radix dialog root. Closing forgets the pick and the outcome.
 */
function Root({
  open: openProp,
  defaultOpen = false,
  onOpenChange,
  tier: tierProp,
  defaultTier = null,
  onTierChange,
  current = null,
  onResult,
  children,
}: TierUpgradeRootProps) {
  const { navigate } = useTally();
  const [open, setOpenState] = useControllableState({ prop: openProp, defaultProp: defaultOpen, onChange: onOpenChange });
  const [tier, setTier] = useControllableState<string | null>({ prop: tierProp, defaultProp: defaultTier, onChange: onTierChange });
  const change = useChangeTier();
  const [result, setResult] = useState<WireTierChangeResult | null>(null);
  // While the change is made, and after, the preview describes the past: keep showing it, but stop
  // refreshing it (a preview from the new tier to itself is refused).
  const preview = useTierChangePreview(tier !== current ? tier : null, { enabled: open && !result && change.status !== 'pending' });
  const previewState: TierPreviewState =
    !tier || tier === current ? 'idle' : preview.data ? 'ready' : preview.status === 'error' ? 'error' : 'loading';
  const name = useId();

  const setOpen = useCallback(
    (next: boolean) => {
      setOpenState(next);
      if (!next) {
        setResult(null);
        change.reset();
        if (tierProp === undefined) setTier(defaultTier);
      }
    },
    [setOpenState, change.reset, tierProp, setTier, defaultTier],
  );

  const confirm = useCallback(async () => {
    if (!tier || previewState !== 'ready' || change.status === 'pending') return;
    let outcome: WireTierChangeResult;
    try {
      outcome = await change.mutate(tier);
    } catch {
      return; // The error is in `change.error` for the Result part to show.
    }
    setResult(outcome);
    if (onResult) onResult(outcome);
    else if (outcome.status === 'checkout' || outcome.status === 'payment_method_required') navigate(outcome.url);
  }, [tier, previewState, change, onResult, navigate]);

  const value = useMemo<TierUpgradeContextValue>(
    () => ({ open, setOpen, tier, setTier, current, preview, previewState, change, result, confirm, name }),
    [open, setOpen, tier, setTier, current, preview, previewState, change, result, confirm, name],
  );
  return (
    <Context.Provider value={value}>
      <Dialog.Root open={open} onOpenChange={setOpen}>
        {children}
      </Dialog.Root>
    </Context.Provider>
  );
}

/** Opens the dialog; focus returns here when it closes. Supports `asChild`. */
const Trigger = Dialog.Trigger;
/** The dialog's accessible name (required). */
const Title = Dialog.Title;
/** The dialog's description. */
const Description = Dialog.Description;
/** Closes the dialog. Supports `asChild`. */
const Close = Dialog.Close;

export interface TierUpgradeContentProps extends ComponentPropsWithoutRef<typeof Dialog.Content> {
  /** Class of the backdrop behind the dialog. */
  overlayClassName?: string;
  /** Where to portal the dialog. Default `document.body`. */
  container?: HTMLElement | null;
}

/**
 * The modal: portal, overlay and content, with focus trapped inside and Escape closing it. On open,
 * focus goes to the picked tier's option (or the first one) rather than the first button.
 */
function Content({ overlayClassName, container, onOpenAutoFocus, children, ...props }: TierUpgradeContentProps) {
  const contentRef = useRef<HTMLDivElement>(null);
  return (
    <Dialog.Portal container={container}>
      <Dialog.Overlay className={overlayClassName} />
      <Dialog.Content
        ref={contentRef}
        onOpenAutoFocus={(event) => {
          onOpenAutoFocus?.(event);
          if (event.defaultPrevented) return;
          // The tiers may still be loading: then hold focus on the dialog itself, and TierList
          // moves it to a tier once they are there.
          event.preventDefault();
          (tierRadio(contentRef.current) ?? contentRef.current)?.focus();
        }}
        {...props}
      >
        {children}
      </Dialog.Content>
    </Dialog.Portal>
  );
}

export interface TierUpgradeTierListProps extends PrimitiveProps<'fieldset'> {
  /** The group's visible name. */
  legend: ReactNode;
  legendClassName?: string;
}

/** The picked tier's radio, else the first one that can be picked. */
function tierRadio(root: HTMLElement | null): HTMLInputElement | null {
  return (
    root?.querySelector<HTMLInputElement>('input[type="radio"]:checked:not(:disabled)') ??
    root?.querySelector<HTMLInputElement>('input[type="radio"]:not(:disabled)') ??
    null
  );
}

/**
 * The tier options as a radio group: arrow keys move between tiers and pick them. When it appears
 * while focus rests on the dialog itself (the tiers arrived after the dialog opened), it takes focus.
 */
function TierList({ legend, legendClassName, children, ...props }: TierUpgradeTierListProps) {
  const ref = useRef<HTMLFieldSetElement>(null);
  useEffect(() => {
    const dialog = ref.current?.closest('[role="dialog"]');
    if (dialog && document.activeElement === dialog) tierRadio(ref.current)?.focus();
  }, []);
  return (
    <Primitive as="fieldset" ref={ref} {...props}>
      <legend className={legendClassName}>{legend}</legend>
      {children}
    </Primitive>
  );
}

export interface TierUpgradeTierOptionProps extends Omit<PrimitiveProps<'label'>, 'onChange'> {
  /** The tier id. */
  value: string;
  disabled?: boolean;
  /** Class of the native radio input (keep it for the keyboard and screen readers; style it as you like). */
  inputClassName?: string;
}

/**
 * One tier: a label wrapping a native radio input. `data-state="checked|unchecked"`,
 * `data-current` for the customer's tier (disabled: there is nothing to change to).
 */
function TierOption({ value, disabled, inputClassName, children, ...props }: TierUpgradeTierOptionProps) {
  const { tier, setTier, current, name } = useTierUpgrade();
  const checked = tier === value;
  const isCurrent = current === value;
  return (
    <Primitive
      as="label"
      data-state={checked ? 'checked' : 'unchecked'}
      data-current={isCurrent ? '' : undefined}
      data-disabled={disabled || isCurrent ? '' : undefined}
      {...props}
    >
      <input
        type="radio"
        className={inputClassName}
        name={name}
        value={value}
        checked={checked}
        disabled={disabled || isCurrent}
        onChange={() => setTier(value)}
      />
      {children}
    </Primitive>
  );
}

export interface TierUpgradePreviewProps extends Omit<PrimitiveProps<'div'>, 'children'> {
  /** Renders the ready preview; `fallback` renders the other states. */
  children: (preview: WireTierChangePreview) => ReactNode;
  fallback?: (state: Exclude<TierPreviewState, 'ready'>, error: Error | null, retry: () => void) => ReactNode;
}

/** The picked tier's proration preview, with `data-state` and `aria-busy` while it loads. */
function Preview({ children, fallback, ...props }: TierUpgradePreviewProps) {
  const { preview, previewState } = useTierUpgrade();
  const retry = () => void preview.refetch();
  return (
    <Primitive as="div" data-state={previewState} aria-busy={previewState === 'loading' || preview.fetching || undefined} {...props}>
      {previewState === 'ready' && preview.data
        ? children(preview.data)
        : fallback?.(previewState as Exclude<TierPreviewState, 'ready'>, preview.error, retry)}
    </Primitive>
  );
}

/**
 * Confirms the change. Stays focusable while it can't act (`aria-disabled`, no tier or preview
 * yet, or a change in flight) so keyboard focus never drops out of the dialog.
 */
function Confirm({ onClick, ...props }: PrimitiveProps<'button'>) {
  const { previewState, change, confirm, result } = useTierUpgrade();
  const ready = previewState === 'ready' && change.status !== 'pending' && !result;
  return (
    <Primitive
      as="button"
      type="button"
      aria-disabled={!ready || undefined}
      data-state={change.status}
      onClick={(event: MouseEvent<HTMLButtonElement>) => {
        onClick?.(event);
        if (!event.defaultPrevented && ready) void confirm();
      }}
      {...props}
    />
  );
}

export interface TierUpgradeResultProps extends Omit<PrimitiveProps<'div'>, 'children'> {
  /** Renders the outcome or the error of the last confirm. */
  children: (outcome: { result: WireTierChangeResult | null; error: Error | null }) => ReactNode;
}

/**
 * A live region for the confirm's outcome. When an outcome arrives it takes focus (it is
 * `tabIndex={-1}`), so keyboard and screen-reader users land on what happened.
 */
function Result({ children, ...props }: TierUpgradeResultProps) {
  const { result, change } = useTierUpgrade();
  const ref = useRef<HTMLDivElement>(null);
  const error = change.status === 'error' ? change.error : null;
  const shown = result ?? error;
  useEffect(() => {
    if (shown) ref.current?.focus();
  }, [shown]);
  return (
    <Primitive
      as="div"
      ref={ref}
      // One constant live region: a role that switches as content arrives is not announced reliably.
      role="status"
      tabIndex={-1}
      data-state={result ? 'success' : error ? 'error' : 'idle'}
      {...props}
    >
      {result || error ? children({ result, error }) : null}
    </Primitive>
  );
}

export { Close, Confirm, Content, Description, Preview, Result, Root, TierList, TierOption, Title, Trigger };
