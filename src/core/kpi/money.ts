/**
 * Exact euro arithmetic for the report: a point value is a decimal (`0.01` in the scale), never a
 * float in a computation. Amounts are kept as integer cents after one half-up rounding.
 */

/** A non-negative decimal as (integer numerator, power of ten): "0.015" → 15n / 10^3. */
export function parseDecimal(text: string): { num: bigint; scale: number } {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a non-negative decimal: ${text}`);
  const frac = m[2] ?? '';
  return { num: BigInt(m[1] + frac), scale: frac.length };
}

/** round-half-up(n / d) for n ≥ 0, d > 0. */
function divHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

/**
 * points × value / divisor, in euro cents rounded half-up (one rounding, at the end). Negative
 * points (more refunded than redeemed) round half away from zero.
 */
export function eurCents(points: bigint | number, value: string, divisor: bigint | number = 1n): bigint {
  const { num, scale } = parseDecimal(value);
  const p = BigInt(points);
  const d = BigInt(divisor) * 10n ** BigInt(scale);
  const abs = divHalfUp((p < 0n ? -p : p) * num * 100n, d);
  return p < 0n ? -abs : abs;
}

/** Cents as a decimal string with two places: 1234n → "12.34". */
export function centsToText(cents: bigint): string {
  const neg = cents < 0n;
  const a = neg ? -cents : cents;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}
