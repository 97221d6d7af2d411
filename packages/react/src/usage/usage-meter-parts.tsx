import { type CSSProperties, createContext, useContext, useId } from 'react';
import { percentOf } from '../format/amounts.js';
import { Primitive, type PrimitiveProps } from '../primitive/primitive.js';

/** `normal`, `low` (under `lowPercent` left), `exhausted` (nothing left) or `unlimited` (no limit to measure). */
export type UsageMeterState = 'normal' | 'low' | 'exhausted' | 'unlimited';

interface MeterContext {
  percent: number;
  state: UsageMeterState;
  labelId: string;
  valueText: string | undefined;
}

const Context = createContext<MeterContext | null>(null);

function useMeter(part: string): MeterContext {
  const value = useContext(Context);
  if (!value) throw new Error(`UsageMeter.${part} must be inside UsageMeter.Root`);
  return value;
}

export interface UsageMeterRootProps extends PrimitiveProps<'div'> {
  /** Micros used so far in the period. */
  used: bigint;
  /** Micros the period allows; null for an unlimited plan (state `unlimited`, nothing to measure). */
  limit: bigint | null;
  /** Below this share left (whole percent of `limit`) the state is `low`. Default 10, as the low-balance notice. */
  lowPercent?: number;
  /** What the meter says to screen readers, e.g. "12.5 of 20 credits used". */
  valueText?: string;
}

/** Computes the state from bigint amounts; only the display share becomes a number. */
export function usageMeterState(used: bigint, limit: bigint | null, lowPercent = 10): UsageMeterState {
  if (limit === null) return 'unlimited';
  const left = limit - used;
  if (left <= 0n) return 'exhausted';
  return left * 100n < BigInt(Math.round(lowPercent)) * limit ? 'low' : 'normal';
}

/** Holds the meter's values for its parts and carries `data-state` for styling the whole block. */
function Root({ used, limit, lowPercent, valueText, style, ...props }: UsageMeterRootProps) {
  const labelId = useId();
  const percent = limit === null ? 0 : percentOf(used, limit);
  const state = usageMeterState(used, limit, lowPercent);
  return (
    <Context.Provider value={{ percent, state, labelId, valueText }}>
      <Primitive
        as="div"
        data-state={state}
        style={{ ['--tally-meter-percent' as string]: `${percent}%`, ...style } as CSSProperties}
        {...props}
      />
    </Context.Provider>
  );
}

/** Names the meter: the track is labelled by it. */
function Label(props: PrimitiveProps<'span'>) {
  const { labelId, state } = useMeter('Label');
  return <Primitive as="span" data-state={state} {...props} id={labelId} />;
}

/**
 * The bar: `role="meter"` with the used share as `aria-valuenow` (0–100) and the root's
 * `valueText`. With an unlimited plan there is nothing to measure and it is hidden from assistive tech.
 */
function Track(props: PrimitiveProps<'div'>) {
  const { state, percent, labelId, valueText } = useMeter('Track');
  const meter =
    state === 'unlimited'
      ? { 'aria-hidden': true }
      : {
          role: 'meter',
          'aria-labelledby': labelId,
          'aria-valuemin': 0,
          'aria-valuemax': 100,
          'aria-valuenow': percent,
          'aria-valuetext': valueText,
        };
  return <Primitive as="div" {...meter} data-state={state} {...props} />;
}

/** The filled part; size it with `--tally-meter-percent` (set on the root) or `data-value`. */
function Indicator(props: PrimitiveProps<'div'>) {
  const { state, percent } = useMeter('Indicator');
  return <Primitive as="div" data-state={state} data-value={percent} {...props} />;
}

export { Indicator, Label, Root, Track };
