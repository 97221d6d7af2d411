/** Credit micros as an exact plain decimal: `"12500000"` → `"12.5"`, `-1n` → `"-0.000001"`. No float on the way. */
export function microsToDecimal(micros: string | bigint): string {
  const value = typeof micros === 'bigint' ? micros : BigInt(micros);
  const magnitude = value < 0n ? -value : value;
  const fraction = (magnitude % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${value < 0n ? '-' : ''}${magnitude / 1_000_000n}${fraction ? `.${fraction}` : ''}`;
}
